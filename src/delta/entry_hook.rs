//! A log store that hands every call to a table's own store and lets a hook read, refuse or
//! replace each commit entry before it is written. delta-rs gives no other place between a
//! commit's actions and its log file; two of our mechanisms need one: the conflict guard
//! ([`super::conflict_guard`], refuses) and the identity high-water marks
//! ([`super::identity_write`], adds an action).

use async_trait::async_trait;
use bytes::Bytes;
use deltalake::DeltaResult;
use deltalake::kernel::transaction::TransactionError;
use deltalake::logstore::{CommitOrBytes, LogStore, LogStoreConfig, LogStoreRef, ObjectStoreRef};
use object_store::path::Path;
use object_store::{ObjectStoreExt as _, PutPayload};
use url::Url;
use uuid::Uuid;

/// What a [`HookedLogStore`] does with a commit entry before it is written.
#[async_trait]
pub(super) trait CommitEntryHook: Send + Sync + 'static {
    /// `entry` is the text to be written at `version` (None when a temporary file the store
    /// would rename could not be read back); `inner` is the table's own store. Returns the text
    /// to write instead, or None to write it as it is; an error refuses the commit.
    async fn before_write(
        &self,
        inner: &dyn LogStore,
        version: u64,
        entry: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, TransactionError>;
}

/// The table's log store `inner`, with `hook` run on every commit entry it writes.
pub(super) struct HookedLogStore<H> {
    pub(super) inner: LogStoreRef,
    pub(super) hook: H,
}

impl<H: CommitEntryHook> HookedLogStore<H> {
    /// `entry` as the hook leaves it, in the form the store writes from: the entry's bytes, or
    /// a temporary file that the store then moves into place.
    async fn hooked(
        &self,
        version: u64,
        entry: CommitOrBytes,
        operation_id: Uuid,
    ) -> Result<CommitOrBytes, TransactionError> {
        match entry {
            CommitOrBytes::LogBytes(bytes) => Ok(
                match self
                    .hook
                    .before_write(self.inner.as_ref(), version, Some(&bytes))
                    .await?
                {
                    Some(replaced) => CommitOrBytes::LogBytes(Bytes::from(replaced)),
                    None => CommitOrBytes::LogBytes(bytes),
                },
            ),
            CommitOrBytes::TmpCommit(path) => {
                let store = self.inner.object_store(Some(operation_id));
                let bytes = match store.get(&path).await {
                    Ok(got) => got.bytes().await.ok(),
                    Err(_) => None,
                };
                let replaced = self
                    .hook
                    .before_write(self.inner.as_ref(), version, bytes.as_deref())
                    .await?;
                if let Some(replaced) = replaced {
                    store.put(&path, PutPayload::from(replaced)).await?;
                }
                Ok(CommitOrBytes::TmpCommit(path))
            }
        }
    }
}

/// The actions of a commit, one JSON document per line (blank lines skipped; None for a line
/// that does not parse).
pub(super) fn actions(commit: &[u8]) -> impl Iterator<Item = Option<serde_json::Value>> + '_ {
    commit
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
        .map(|line| serde_json::from_slice(line).ok())
}

#[async_trait]
impl<H: CommitEntryHook> LogStore for HookedLogStore<H> {
    /// The wrapped store's own name: delta-rs decides by it whether a commit is handed over as
    /// bytes (conditional put) or as a temporary file to rename.
    fn name(&self) -> String {
        self.inner.name()
    }

    async fn refresh(&self) -> DeltaResult<()> {
        self.inner.refresh().await
    }

    async fn read_commit_entry(&self, version: u64) -> DeltaResult<Option<Bytes>> {
        self.inner.read_commit_entry(version).await
    }

    async fn write_commit_entry(
        &self,
        version: u64,
        commit_or_bytes: CommitOrBytes,
        operation_id: Uuid,
    ) -> Result<(), TransactionError> {
        let entry = self.hooked(version, commit_or_bytes, operation_id).await?;
        self.inner
            .write_commit_entry(version, entry, operation_id)
            .await
    }

    async fn abort_commit_entry(
        &self,
        version: u64,
        commit_or_bytes: CommitOrBytes,
        operation_id: Uuid,
    ) -> Result<(), TransactionError> {
        self.inner
            .abort_commit_entry(version, commit_or_bytes, operation_id)
            .await
    }

    async fn get_latest_version(&self, start_version: u64) -> DeltaResult<u64> {
        self.inner.get_latest_version(start_version).await
    }

    fn object_store(&self, operation_id: Option<Uuid>) -> ObjectStoreRef {
        self.inner.object_store(operation_id)
    }

    fn root_object_store(&self, operation_id: Option<Uuid>) -> ObjectStoreRef {
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
