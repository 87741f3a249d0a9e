//! Appending rows to a table with identity columns: the values are generated in the plan
//! ([`super::identity::with_generated_values`], which counts the values it hands out) and the new
//! high-water marks go into the same commit as the rows, as one `metaData` action beside the
//! `add`s, so a reader or writer sees both or neither.
//!
//! The rows are written by delta-rs's own write builder (its checks of NOT NULL, CHECK
//! constraints and generated columns, its partitioning and statistics), given a snapshot copy
//! without the identity feature (see [`super::identity`]). The builder has no way to add an
//! action to its commit, and the values taken are known only once the rows are written; so it
//! commits through the table's own log store with [`HighWaterMarks`] hooked on it
//! ([`super::entry_hook`]), which adds the `metaData` action to the commit entry it writes. A
//! concurrent commit that changed the metadata (another writer's identity rows) fails this one
//! as a conflict (delta-rs's metadata check), which the INSERT retries from the new marks; any
//! other concurrent commit leaves the marks this one computed valid.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::logical_expr::LogicalPlan;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::TransactionError;
use deltalake::kernel::{Action, Metadata, MetadataExt, StructType};
use deltalake::logstore::{LogStore, LogStoreRef};
use deltalake::operations::write::WriteBuilder;
use deltalake::protocol::SaveMode;

use super::entry_hook::{CommitEntryHook, HookedLogStore, actions};
use super::identity::{self, IdentityFill};
use crate::error::Result;

/// Appends the rows of `plan` (shaped to the table's columns; an identity column without a
/// value is NULL) to `table`, which lists the identity feature, in one commit; returns the rows
/// added and the table's real state after the commit.
pub async fn append(
    table: DeltaTable,
    plan: LogicalPlan,
    session: Arc<dyn Session>,
) -> Result<(u64, DeltaTable)> {
    let columns = identity::schema_identity_columns(&table.snapshot()?.schema());
    let (plan, fill) = identity::with_generated_values(plan, &columns)?;
    append_filled(table, plan, session, fill).await
}

/// [`append`] of rows whose identity values `fill` already generated (INSERT ... RETURNING
/// generates them before it returns the rows): the commit records `fill`'s marks.
pub async fn append_filled(
    table: DeltaTable,
    plan: LogicalPlan,
    session: Arc<dyn Session>,
    fill: IdentityFill,
) -> Result<(u64, DeltaTable)> {
    let state = table.snapshot()?;
    let store = marking_store(&table, fill)?;
    let copy = super::handled_features::without_handled_features(state.snapshot())?;
    let written = WriteBuilder::new(store, Some(copy))
        .with_input_plan(plan)
        .with_session_state(session)
        .with_save_mode(SaveMode::Append)
        .with_commit_properties(super::quiet_commit())
        .await?;
    let rows = super::last_commit_metric(&written, &["num_added_rows"])
        .await
        .unwrap_or(0) as u64;
    // The state kept is the table's own (its real protocol), brought up to the new commit.
    let mut table = table;
    table.update_state().await?;
    Ok((rows, table))
}

/// `table`'s log store with the high-water marks after the values `fill` counts added to the
/// commit entry a write builder makes through it (see the module header).
pub fn marking_store(table: &DeltaTable, fill: IdentityFill) -> Result<LogStoreRef> {
    let state = table.snapshot()?;
    Ok(Arc::new(HookedLogStore {
        inner: table.log_store(),
        hook: HighWaterMarks {
            metadata: state.metadata().clone(),
            schema: state.schema().as_ref().clone(),
            fill,
        },
    }))
}

/// The hook that adds the identity columns' new high-water marks to the commit entry (see the
/// module header).
struct HighWaterMarks {
    /// The table's metadata at the version the write read.
    metadata: Metadata,
    /// Its schema, whose identity columns' marks the commit moves.
    schema: StructType,
    /// The values the write generated.
    fill: IdentityFill,
}

#[async_trait]
impl CommitEntryHook for HighWaterMarks {
    /// The entry with the `metaData` action that records the marks after the values the write
    /// generated; unchanged when it generated none.
    async fn before_write(
        &self,
        _inner: &dyn LogStore,
        _version: u64,
        entry: Option<&[u8]>,
    ) -> std::result::Result<Option<Vec<u8>>, TransactionError> {
        let marks = self
            .fill
            .high_water_marks()
            .map_err(|e| refused(&e.message))?;
        if marks.is_empty() {
            return Ok(None);
        }
        let entry = entry.ok_or_else(|| refused("the commit entry could not be read back"))?;
        if actions(entry)
            .flatten()
            .any(|action| action.get("metaData").is_some())
        {
            return Err(refused("the write would also change the table's schema"));
        }
        let schema = identity::with_high_water_marks(&self.schema, &marks)
            .map_err(|e| refused(&e.message))?;
        let metadata = self
            .metadata
            .clone()
            .with_schema(&schema)
            .map_err(|e| refused(&e.to_string()))?;
        let line = serde_json::to_vec(&Action::Metadata(metadata))
            .map_err(|json_err| TransactionError::SerializeLogJson { json_err })?;
        let mut marked = entry.to_vec();
        if !marked.ends_with(b"\n") {
            marked.push(b'\n');
        }
        marked.extend_from_slice(&line);
        marked.push(b'\n');
        Ok(Some(marked))
    }
}

fn refused(why: &str) -> TransactionError {
    TransactionError::LogStoreError {
        msg: format!("writing identity values: {why}"),
        source: why.to_string().into(),
    }
}
