//! Table metadata changes that delta-rs has no operation for, as one metadata commit each:
//! `ALTER COLUMN ... SET NOT NULL` (after the caller has checked the rows), `SET / DROP DEFAULT`,
//! a text column's declared type (`ALTER COLUMN ... TYPE varchar(n)`, after the caller has
//! checked the rows), `UNSET TBLPROPERTIES`, and comments (`COMMENT ON TABLE / COLUMN`). The new
//! metadata keeps the table's id, partitioning and other properties; only the schema, the
//! description or the named keys change.

use std::collections::HashMap;

use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::kernel::{Action, MetadataExt, StructType};
use deltalake::protocol::DeltaOperation;

use crate::error::{Error, ErrorKind, Result};

/// Marks `column` NOT NULL. The caller has made sure no row holds a NULL in it.
pub async fn set_not_null(table: DeltaTable, column: &str) -> Result<DeltaTable> {
    let snapshot = table.snapshot()?;
    let schema = snapshot.schema();
    let Some(field) = schema.field(column) else {
        return Err(Error::new(
            ErrorKind::UndefinedColumn,
            format!("column \"{column}\" does not exist"),
        ));
    };
    if !field.is_nullable() {
        return Ok(table);
    }
    let mut changed = field.clone();
    changed.nullable = false;
    commit_changed_field(table, changed, None).await
}

/// Sets (or, with `None`, removes) the metadata `key` of `column`: a declared text type
/// (`__CHAR_VARCHAR_TYPE_STRING`), which changes what writes accept, not the data.
pub async fn set_column_metadata(
    table: DeltaTable,
    column: &str,
    key: &str,
    value: Option<String>,
) -> Result<DeltaTable> {
    match field_with_metadata(&table, column, key, value)? {
        Some(changed) => commit_changed_field(table, changed, None).await,
        None => Ok(table),
    }
}

/// `ALTER COLUMN ... SET DEFAULT` (Spark SQL text) / `DROP DEFAULT` (`None`): the column's
/// `CURRENT_DEFAULT`, with the `allowColumnDefaults` feature added to the protocol in the same
/// commit when a table that lacks it gets a default.
pub async fn set_column_default(
    table: DeltaTable,
    column: &str,
    default: Option<String>,
) -> Result<DeltaTable> {
    let protocol = match default {
        Some(_) => super::handled_features::protocol_with(
            table.snapshot()?.protocol(),
            super::column_defaults::FEATURE,
        )?,
        None => None,
    };
    let changed = field_with_metadata(&table, column, super::CURRENT_DEFAULT, default)?;
    match changed {
        Some(changed) => commit_changed_field(table, changed, protocol).await,
        None => Ok(table),
    }
}

/// The field `column` with its metadata `key` set to `value` (removed for `None`); `None` when
/// that changes nothing.
fn field_with_metadata(
    table: &DeltaTable,
    column: &str,
    key: &str,
    value: Option<String>,
) -> Result<Option<deltalake::kernel::StructField>> {
    let snapshot = table.snapshot()?;
    let schema = snapshot.schema();
    let Some(field) = schema.field(column) else {
        return Err(Error::new(
            ErrorKind::UndefinedColumn,
            format!("column \"{column}\" does not exist"),
        ));
    };
    let mut changed = field.clone();
    match value {
        Some(value) => {
            changed.metadata.insert(
                key.to_string(),
                deltalake::kernel::MetadataValue::String(value),
            );
        }
        None => {
            changed.metadata.remove(key);
        }
    }
    Ok((changed.metadata != field.metadata).then_some(changed))
}

/// One metadata commit that replaces the field of `changed`'s name with it (and the protocol
/// with `protocol`, when given).
async fn commit_changed_field(
    table: DeltaTable,
    changed: deltalake::kernel::StructField,
    protocol: Option<deltalake::kernel::Protocol>,
) -> Result<DeltaTable> {
    let snapshot = table.snapshot()?;
    let schema = snapshot.schema();
    let fields = schema.fields().map(|f| {
        if f.name() == changed.name() {
            changed.clone()
        } else {
            f.clone()
        }
    });
    let new_schema = StructType::try_new(fields)
        .map_err(|e| Error::internal(format!("schema with {}'s change: {e}", changed.name())))?;
    let metadata = snapshot
        .metadata()
        .clone()
        .with_schema(&new_schema)
        .map_err(deltalake::DeltaTableError::from)?;
    let operation = DeltaOperation::UpdateFieldMetadata {
        fields: vec![changed],
    };
    let mut actions = vec![Action::Metadata(metadata)];
    actions.extend(protocol.map(Action::Protocol));
    commit_actions(table, actions, operation).await
}

/// Removes the property keys from the table's configuration; a missing key is an error unless
/// `if_exists`. Returns the table and the keys that were not there.
pub async fn unset_properties(
    table: DeltaTable,
    keys: &[String],
    if_exists: bool,
) -> Result<(DeltaTable, Vec<String>)> {
    let snapshot = table.snapshot()?;
    let mut metadata = snapshot.metadata().clone();
    let mut missing = Vec::new();
    for key in keys {
        if metadata.configuration().contains_key(key) {
            metadata = metadata
                .remove_config_key(key)
                .map_err(deltalake::DeltaTableError::from)?;
        } else {
            missing.push(key.clone());
        }
    }
    if !missing.is_empty() && !if_exists {
        return Err(Error::new(
            ErrorKind::UndefinedObject,
            format!(
                "table has no property {}",
                missing
                    .iter()
                    .map(|k| format!("'{k}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_hint("UNSET TBLPROPERTIES IF EXISTS (...) skips missing properties"));
    }
    if missing.len() == keys.len() {
        return Ok((table, missing));
    }
    let remaining: HashMap<String, String> = metadata.configuration().clone();
    let operation = DeltaOperation::SetTableProperties {
        properties: remaining,
    };
    Ok((commit_metadata(table, metadata, operation).await?, missing))
}

/// The metadata key of a column's comment in a Delta schema (where Spark keeps a column's
/// `COMMENT`).
pub const COLUMN_COMMENT: &str = "comment";

/// A column's comment, from its Arrow field's metadata (`COMMENT ON COLUMN`, Spark's `COMMENT`).
pub fn column_comment(field: &datafusion::arrow::datatypes::Field) -> Option<String> {
    field_metadata_text(field, COLUMN_COMMENT)
}

/// The text of an Arrow field's Delta metadata `key` (a comment, a default, a generation
/// expression).
pub fn field_metadata_text(
    field: &datafusion::arrow::datatypes::Field,
    key: &str,
) -> Option<String> {
    let raw = field.metadata().get(key)?;
    // Metadata values reach Arrow fields as JSON when they are not plain strings.
    Some(serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.clone()))
}

/// `COMMENT ON TABLE`: the table's description (`metaData.description`, where Spark keeps a
/// table's `COMMENT`), removed with `None`. One metadata commit; nothing else changes.
pub async fn set_description(table: DeltaTable, description: Option<String>) -> Result<DeltaTable> {
    let snapshot = table.snapshot()?;
    let current = snapshot.metadata();
    if current.description() == description.as_deref() {
        return Ok(table);
    }
    // The kernel's Metadata has no setter that can clear the description: edit its Delta JSON.
    let mut value = serde_json::to_value(current)
        .map_err(|e| Error::internal(format!("table metadata as JSON: {e}")))?;
    value["description"] = serde_json::json!(description);
    let metadata: deltalake::kernel::Metadata = serde_json::from_value(value)
        .map_err(|e| Error::internal(format!("table metadata from JSON: {e}")))?;
    let operation = DeltaOperation::UpdateTableMetadata {
        metadata_update: deltalake::operations::update_table_metadata::TableMetadataUpdate {
            name: None,
            description,
        },
    };
    commit_metadata(table, metadata, operation).await
}

async fn commit_metadata(
    table: DeltaTable,
    metadata: deltalake::kernel::Metadata,
    operation: DeltaOperation,
) -> Result<DeltaTable> {
    commit_actions(table, vec![Action::Metadata(metadata)], operation).await
}

async fn commit_actions(
    table: DeltaTable,
    actions: Vec<Action>,
    operation: DeltaOperation,
) -> Result<DeltaTable> {
    // A table whose features delta-rs refuses commits through a copy without them.
    let operable = super::operable(&table)?;
    CommitBuilder::from(super::quiet_commit())
        .with_actions(actions)
        .build(Some(operable.snapshot()?), table.log_store(), operation)
        .await?;
    let mut table = table;
    table.update_state().await?;
    Ok(table)
}
