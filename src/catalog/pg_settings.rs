//! `pg_settings` as the scanning session's run-time parameters (pgAdmin sets `bytea_output`
//! through it at connect; tools list it). The library's view holds one fixed row.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::error::Result;

use super::identity::batch_by_field_name;

/// A session's parameters (display name, value), kept in its DataFusion configuration so that
/// `pg_settings` can read them when scanned; the session refreshes it before each statement.
#[derive(Debug)]
pub struct SessionSettings(pub Vec<(String, String)>);

/// The `pg_settings` rows (in `schema`, the library's columns) of the scanning session, or None
/// outside a session.
pub fn settings_rows(schema: &SchemaRef, state: &dyn Session) -> Result<Option<RecordBatch>> {
    let Some(settings) = state.config().get_extension::<SessionSettings>() else {
        return Ok(None);
    };
    let rows = settings.0.len();
    let text = |values: Vec<&str>| -> ArrayRef { Arc::new(StringArray::from(values)) };
    let batch = batch_by_field_name(schema, rows, |name| {
        Some(match name {
            "name" => text(settings.0.iter().map(|(n, _)| n.as_str()).collect()),
            "setting" | "reset_val" | "boot_val" => {
                text(settings.0.iter().map(|(_, v)| v.as_str()).collect())
            }
            "category" => text(vec!["Client Connection Defaults"; rows]),
            "context" => text(vec!["user"; rows]),
            "vartype" => text(vec!["string"; rows]),
            "source" => text(vec!["session"; rows]),
            "pending_restart" => Arc::new(BooleanArray::from(vec![false; rows])),
            _ => return None,
        })
    })?;
    Ok(Some(batch))
}
