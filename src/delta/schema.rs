//! Arrow schemas as Delta can store them.
//!
//! DataFusion produces types Delta has no equivalent for (string views, nanosecond timestamps,
//! time zones other than UTC); they are mapped to their Delta form here, and types Delta cannot
//! store at all are refused with a message naming the column.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::error::{Error, ErrorKind, Result};

/// The Arrow schema of a table's current snapshot (delta-rs's own `arrow_schema()` panics on a
/// schema Arrow cannot hold; this is an error instead).
pub fn table_arrow_schema(table: &deltalake::DeltaTable) -> Result<SchemaRef> {
    use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
    let schema: Schema = table
        .snapshot()?
        .schema()
        .as_ref()
        .try_into_arrow()
        .map_err(|e| Error::internal(format!("table schema: {e}")))?;
    Ok(Arc::new(schema))
}

/// The schema with every type replaced by the one a Delta table stores.
pub fn to_delta_arrow_schema(schema: &Schema) -> Result<Schema> {
    let fields =
        schema
            .fields()
            .iter()
            .map(|f| {
                let data_type = delta_type(f.name(), f.data_type())?;
                Ok(Field::new(f.name(), data_type, f.is_nullable())
                    .with_metadata(f.metadata().clone()))
            })
            .collect::<Result<Vec<_>>>()?;
    Ok(Schema::new(fields))
}

fn delta_type(column: &str, t: &DataType) -> Result<DataType> {
    Ok(match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary | DataType::FixedSizeBinary(_) => {
            DataType::Binary
        }
        DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::Timestamp(_, Some(_)) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        }
        DataType::Date64 => DataType::Date32,
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 => DataType::Int64,
        DataType::UInt64 => DataType::Decimal128(20, 0),
        DataType::Float16 => DataType::Float32,
        DataType::Null => DataType::Utf8,
        DataType::Dictionary(_, value) => delta_type(column, value)?,
        DataType::List(inner)
        | DataType::LargeList(inner)
        | DataType::ListView(inner)
        | DataType::FixedSizeList(inner, _) => DataType::List(Arc::new(Field::new(
            inner.name(),
            delta_type(column, inner.data_type())?,
            inner.is_nullable(),
        ))),
        DataType::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| {
                    Ok(Field::new(
                        f.name(),
                        delta_type(column, f.data_type())?,
                        f.is_nullable(),
                    ))
                })
                .collect::<Result<Vec<_>>>()?
                .into(),
        ),
        DataType::Time32(_)
        | DataType::Time64(_)
        | DataType::Interval(_)
        | DataType::Duration(_) => {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                format!("column \"{column}\" has type {t}, which Delta tables cannot store"),
            )
            .with_hint("store times as text or as a timestamp, intervals as a number of seconds"));
        }
        other => other.clone(),
    })
}

/// The field metadata key of a generated column's expression (Delta protocol).
pub const GENERATION_EXPRESSION: &str = "delta.generationExpression";

/// The table's generated columns as (name, expression), in table order.
pub fn generated_columns(table: &deltalake::DeltaTable) -> Result<Vec<(String, String)>> {
    let snapshot = table.snapshot()?;
    Ok(snapshot
        .schema()
        .fields()
        .filter_map(|f| match f.metadata().get(GENERATION_EXPRESSION) {
            Some(deltalake::kernel::MetadataValue::String(expr)) => {
                Some((f.name().to_string(), expr.clone()))
            }
            Some(other) => Some((f.name().to_string(), other.to_string())),
            None => None,
        })
        .collect())
}
