//! Appending rows to a table with identity columns: the values are generated in the plan
//! ([`super::identity::with_generated_values`], which counts the values it hands out) and the new
//! high-water marks go into the same commit as the rows, as one `metaData` action beside the
//! `add`s, so a reader or writer sees both or neither.
//!
//! The rows are written by delta-rs's own write builder (its checks of NOT NULL, CHECK
//! constraints and generated columns, its partitioning and statistics), given a snapshot copy
//! without the identity feature (see [`super::identity`]). The builder has no way to add an
//! action to its commit, and the values taken are known only once the rows are written; so it
//! commits through [`HighWaterMarks`], a log store that hands every call to the table's own and
//! adds the `metaData` action to the commit entry it writes. A concurrent commit that changed the
//! metadata (another writer's identity rows) fails this one as a conflict (delta-rs's metadata
//! check), which the INSERT retries from the new marks; any other concurrent commit leaves the
//! marks this one computed valid.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::catalog::Session;
use datafusion::logical_expr::LogicalPlan;
use deltalake::DeltaResult;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::TransactionError;
use deltalake::kernel::{Action, Metadata, MetadataExt, StructType};
use deltalake::logstore::{CommitOrBytes, LogStore, LogStoreConfig, LogStoreRef};
use deltalake::operations::write::WriteBuilder;
use deltalake::protocol::SaveMode;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use url::Url;
use uuid::Uuid;

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
    let store: LogStoreRef = Arc::new(HighWaterMarks {
        inner: table.log_store(),
        metadata: state.metadata().clone(),
        schema: state.schema().as_ref().clone(),
        fill,
    });
    let copy = identity::without_identity_feature(state.snapshot())?;
    let written = WriteBuilder::new(store, Some(copy))
        .with_input_plan(plan)
        .with_session_state(session)
        .with_save_mode(SaveMode::Append)
        .with_commit_properties(super::quiet_commit())
        .await?;
    let rows = super::last_commit_metric(&written, &["num_added_rows"])
        .await
        .unwrap_or(0) as u64;
    Ok((rows, identity::settle(table).await?))
}

/// The table's log store, writing each commit entry with the identity columns' new high-water
/// marks added (see the module header).
struct HighWaterMarks {
    inner: LogStoreRef,
    /// The table's metadata at the version the write read.
    metadata: Metadata,
    /// Its schema, whose identity columns' marks the commit moves.
    schema: StructType,
    /// The values the write generated.
    fill: IdentityFill,
}

impl std::fmt::Debug for HighWaterMarks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HighWaterMarks({})", self.inner.root_url())
    }
}

impl HighWaterMarks {
    /// The commit entry `entry` with the `metaData` action that records the marks after the
    /// values the write generated; unchanged when it generated none.
    fn marked(&self, entry: &[u8]) -> std::result::Result<Option<Vec<u8>>, TransactionError> {
        let marks = self
            .fill
            .high_water_marks()
            .map_err(|e| refused(&e.message))?;
        if marks.is_empty() {
            return Ok(None);
        }
        let changes_metadata = entry
            .split(|b| *b == b'\n')
            .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
            .any(|action| action.get("metaData").is_some());
        if changes_metadata {
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

    /// `commit` with the marks added, for either form the log store writes from: the entry's
    /// bytes, or a temporary file that the store then moves into place.
    async fn with_marks(
        &self,
        commit: CommitOrBytes,
    ) -> std::result::Result<CommitOrBytes, TransactionError> {
        match commit {
            CommitOrBytes::LogBytes(bytes) => Ok(match self.marked(&bytes)? {
                Some(marked) => CommitOrBytes::LogBytes(Bytes::from(marked)),
                None => CommitOrBytes::LogBytes(bytes),
            }),
            CommitOrBytes::TmpCommit(path) => {
                let store = self.inner.object_store(None);
                let bytes = store.get(&path).await?.bytes().await?;
                if let Some(marked) = self.marked(&bytes)? {
                    store.put(&path, PutPayload::from(marked)).await?;
                }
                Ok(CommitOrBytes::TmpCommit(path))
            }
        }
    }
}

fn refused(why: &str) -> TransactionError {
    TransactionError::LogStoreError {
        msg: format!("writing identity values: {why}"),
        source: why.to_string().into(),
    }
}

#[async_trait]
impl LogStore for HighWaterMarks {
    fn name(&self) -> String {
        self.inner.name()
    }

    async fn refresh(&self) -> DeltaResult<()> {
        self.inner.refresh().await
    }

    async fn read_commit_entry(
        &self,
        version: deltalake::kernel::Version,
    ) -> DeltaResult<Option<Bytes>> {
        self.inner.read_commit_entry(version).await
    }

    async fn write_commit_entry(
        &self,
        version: deltalake::kernel::Version,
        commit_or_bytes: CommitOrBytes,
        operation_id: Uuid,
    ) -> std::result::Result<(), TransactionError> {
        let marked = self.with_marks(commit_or_bytes).await?;
        self.inner
            .write_commit_entry(version, marked, operation_id)
            .await
    }

    async fn abort_commit_entry(
        &self,
        version: deltalake::kernel::Version,
        commit_or_bytes: CommitOrBytes,
        operation_id: Uuid,
    ) -> std::result::Result<(), TransactionError> {
        self.inner
            .abort_commit_entry(version, commit_or_bytes, operation_id)
            .await
    }

    async fn get_latest_version(
        &self,
        start_version: deltalake::kernel::Version,
    ) -> DeltaResult<deltalake::kernel::Version> {
        self.inner.get_latest_version(start_version).await
    }

    fn object_store(&self, operation_id: Option<Uuid>) -> Arc<dyn ObjectStore> {
        self.inner.object_store(operation_id)
    }

    fn root_object_store(&self, operation_id: Option<Uuid>) -> Arc<dyn ObjectStore> {
        self.inner.root_object_store(operation_id)
    }

    fn to_uri(&self, location: &Path) -> String {
        self.inner.to_uri(location)
    }

    fn root_url(&self) -> &Url {
        self.inner.root_url()
    }

    fn log_path(&self) -> &Path {
        self.inner.log_path()
    }

    fn transaction_url(&self, operation_id: Option<Uuid>) -> DeltaResult<Url> {
        self.inner.transaction_url(operation_id)
    }

    async fn is_delta_table_location(&self) -> DeltaResult<bool> {
        self.inner.is_delta_table_location().await
    }

    fn config(&self) -> &LogStoreConfig {
        self.inner.config()
    }

    fn object_store_url(&self) -> datafusion::execution::object_store::ObjectStoreUrl {
        self.inner.object_store_url()
    }
}
