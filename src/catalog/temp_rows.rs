//! A session's temporary tables in `pg_namespace`, `pg_class` and `pg_attribute`, so that psql
//! `\dt` lists them and `\d tt` describes them as PostgreSQL does, and drivers that read a
//! result's columns by table OID find them.
//!
//! The catalog library walks the shared catalog (the Delta tables every session sees); the
//! temporary tables are added to the rows of the one session that scans the catalog table,
//! under the namespace `pg_temp` (the name that resolves here; PostgreSQL shows `pg_temp_N`),
//! with OIDs from a range the shared tables never reach (see `temp::session_temp`).

use std::collections::HashMap;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::error::Result;

use super::TEMP_SCHEMA;
use super::temp::{SessionTemp, session_temp};

/// The rows the scanning session adds to the catalog table `table` (one of `pg_namespace`,
/// `pg_class`, `pg_attribute`), in that table's `schema`; None when it adds none.
pub(super) async fn session_rows(
    table: &str,
    schema: &SchemaRef,
    state: &dyn Session,
) -> Result<Option<RecordBatch>> {
    if !matches!(table, "pg_namespace" | "pg_class" | "pg_attribute") {
        return Ok(None);
    }
    let Some(temp) = session_temp(state).await? else {
        return Ok(None);
    };
    let rows = match table {
        "pg_namespace" => namespace_rows(&temp),
        "pg_class" => class_rows(&temp),
        _ => attribute_rows(&temp),
    };
    batch(schema, &rows).map(Some)
}

/// One catalog row: the values of the columns it sets, by column name.
type Row = HashMap<&'static str, ScalarValue>;

fn int4(value: u32) -> ScalarValue {
    ScalarValue::Int32(Some(value as i32))
}

fn text(value: &str) -> ScalarValue {
    ScalarValue::Utf8(Some(value.to_string()))
}

fn namespace_rows(temp: &SessionTemp) -> Vec<Row> {
    vec![HashMap::from([
        ("oid", int4(temp.namespace_oid)),
        ("nspname", text(TEMP_SCHEMA)),
    ])]
}

fn class_rows(temp: &SessionTemp) -> Vec<Row> {
    temp.tables
        .iter()
        .map(|(oid, name, columns)| {
            HashMap::from([
                ("oid", int4(*oid)),
                ("relname", text(name)),
                ("relnamespace", int4(temp.namespace_oid)),
                ("relfilenode", int4(*oid)),
                ("relpages", ScalarValue::Int32(Some(1))),
                ("relpersistence", text("t")),
                ("relkind", text("r")),
                (
                    "relnatts",
                    ScalarValue::Int16(Some(columns.fields().len() as i16)),
                ),
                ("relispopulated", ScalarValue::Boolean(Some(true))),
                ("relreplident", text("d")),
            ])
        })
        .collect()
}

fn attribute_rows(temp: &SessionTemp) -> Vec<Row> {
    let mut rows = Vec::new();
    for (oid, _, columns) in &temp.tables {
        for (index, field) in columns.fields().iter().enumerate() {
            let wire_type = super::pg::field_wire_type(field);
            rows.push(HashMap::from([
                ("attrelid", int4(*oid)),
                ("attname", text(field.name())),
                ("atttypid", int4(wire_type.oid())),
                ("attnum", ScalarValue::Int16(Some(index as i16 + 1))),
                ("attlen", ScalarValue::Int16(Some(-1))),
                (
                    "atttypmod",
                    ScalarValue::Int32(Some(super::pg::field_type_modifier(field))),
                ),
                (
                    "attnotnull",
                    ScalarValue::Boolean(Some(!field.is_nullable())),
                ),
                ("attislocal", ScalarValue::Boolean(Some(true))),
                ("attstattarget", ScalarValue::Int32(Some(-1))),
            ]));
        }
    }
    rows
}

/// `rows` as a batch of `schema`: a column a row does not set is NULL where the column allows
/// it, else its type's zero (`0`, `false`, the empty text), as the library fills them.
fn batch(schema: &SchemaRef, rows: &[Row]) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let unset = unset_value(field.data_type(), field.is_nullable())?;
            let values = rows.iter().map(|row| {
                row.get(field.name().as_str())
                    .cloned()
                    .unwrap_or_else(|| unset.clone())
                    .cast_to(field.data_type())
            });
            let values = values.collect::<Result<Vec<_>>>()?;
            if values.is_empty() {
                return Ok(datafusion::arrow::array::new_empty_array(field.data_type()));
            }
            ScalarValue::iter_to_array(values)
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

fn unset_value(data_type: &DataType, nullable: bool) -> Result<ScalarValue> {
    if nullable {
        return ScalarValue::try_from(data_type);
    }
    Ok(match data_type {
        DataType::Utf8 => text(""),
        DataType::Utf8View => ScalarValue::Utf8View(Some(String::new())),
        DataType::LargeUtf8 => ScalarValue::LargeUtf8(Some(String::new())),
        DataType::Boolean => ScalarValue::Boolean(Some(false)),
        other => ScalarValue::new_zero(other)?,
    })
}
