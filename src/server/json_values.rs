//! Columns the wire encoder has no PostgreSQL type for (maps, lists of lists, structs holding
//! them: what Spark writes for `MAP<...>` and `ARRAY<ARRAY<...>>`) sent as `jsonb`, in text and
//! binary format, instead of failing the whole result: a map is a JSON object, a list a JSON
//! array, a struct an object of its fields. Every client reads `jsonb` (psycopg as Python lists
//! and dicts). Structs of scalars stay PostgreSQL composites and lists of scalars or of such
//! structs PostgreSQL arrays; a struct holding a struct, list or map is sent as jsonb too.
//! The text is PostgreSQL's jsonb form (`{"k": 1}`), the one a jsonb column of PostgreSQL gives.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Schema};
use pgwire::error::{PgWireError, PgWireResult};

pub use crate::catalog::sent_as_json;

/// `data_type` with every map's keys as text (JSON object keys are strings; Spark's maps often
/// have integer keys), recursively.
fn with_text_map_keys(data_type: &DataType) -> DataType {
    let field = |f: &FieldRef| {
        Arc::new(
            f.as_ref()
                .clone()
                .with_data_type(with_text_map_keys(f.data_type())),
        )
    };
    match data_type {
        DataType::Map(entries, sorted) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return data_type.clone();
            };
            let mut kv: Vec<FieldRef> = kv.iter().map(field).collect();
            if let Some(key) = kv.first_mut() {
                *key = Arc::new(key.as_ref().clone().with_data_type(DataType::Utf8));
            }
            DataType::Map(
                Arc::new(
                    entries
                        .as_ref()
                        .clone()
                        .with_data_type(DataType::Struct(Fields::from(kv))),
                ),
                *sorted,
            )
        }
        DataType::List(f) => DataType::List(field(f)),
        DataType::LargeList(f) => DataType::LargeList(field(f)),
        DataType::FixedSizeList(f, n) => DataType::FixedSizeList(field(f), *n),
        DataType::Struct(fs) => DataType::Struct(fs.iter().map(field).collect()),
        other => other.clone(),
    }
}

/// A json or jsonb value as its text; sent as that text in text format, and in binary format
/// as json's (the text) or jsonb's (version 1, then the text).
#[derive(Debug)]
pub struct JsonbText(pub String);

impl postgres_types::ToSql for JsonbText {
    fn to_sql(
        &self,
        ty: &postgres_types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres_types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use bytes::BufMut;
        if *ty == postgres_types::Type::JSONB {
            out.put_u8(1);
        }
        out.put_slice(self.0.as_bytes());
        Ok(postgres_types::IsNull::No)
    }

    fn accepts(ty: &postgres_types::Type) -> bool {
        matches!(
            *ty,
            postgres_types::Type::JSON | postgres_types::Type::JSONB
        )
    }

    postgres_types::to_sql_checked!();
}

impl pgwire::types::ToSqlText for JsonbText {
    fn to_sql_text(
        &self,
        _ty: &postgres_types::Type,
        out: &mut bytes::BytesMut,
        _format_options: &pgwire::types::format::FormatOptions,
    ) -> Result<postgres_types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(postgres_types::IsNull::No)
    }
}

/// The jsonb value of every row of `column` (`None` for NULL).
pub fn json_rows(column: &ArrayRef) -> PgWireResult<Vec<Option<JsonbText>>> {
    let api = |e: datafusion::arrow::error::ArrowError| PgWireError::ApiError(Box::new(e));
    let ready = with_text_map_keys(column.data_type());
    let column = if &ready == column.data_type() {
        column.clone()
    } else {
        datafusion::arrow::compute::cast(column, &ready).map_err(api)?
    };
    let column = &column;
    let field = Field::new("v", column.data_type().clone(), true);
    let batch = RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![column.clone()])
        .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
    // Explicit nulls: a struct's NULL field is `"f": null`, as the struct has it.
    let mut writer = datafusion::arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, datafusion::arrow::json::writer::JsonArray>(Vec::new());
    writer
        .write(&batch)
        .and_then(|_| writer.finish())
        .map_err(|e| PgWireError::ApiError(Box::new(e)))?;
    let text = writer.into_inner();
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = if text.is_empty() {
        Vec::new()
    } else {
        serde_json::from_slice(&text).map_err(|e| PgWireError::ApiError(Box::new(e)))?
    };
    let mut values = rows
        .into_iter()
        .map(|mut row| {
            row.remove("v")
                .filter(|v| !v.is_null())
                .map(|v| {
                    crate::semantics::jsonb_text(&v.to_string())
                        .map(JsonbText)
                        .map_err(|e| PgWireError::ApiError(Box::new(e)))
                })
                .transpose()
        })
        .collect::<PgWireResult<Vec<Option<JsonbText>>>>()?;
    values.resize_with(column.len(), || None);
    Ok(values)
}
