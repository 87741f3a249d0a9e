//! A guard on every commit this server writes: a commit that removes a file which a commit since
//! its read version already removed is refused as a conflict (40001), as Delta's protocol and
//! Spark's conflict checker treat it.
//!
//! delta-rs (1.1.3) compares a losing commit's removes only with the winners' removes that have
//! `dataChange = true`. Two commits that remove the same files with `dataChange = false` (two
//! compactions, a compaction and a z-order) or a rewrite (UPDATE, DELETE, MERGE) that removes a
//! file a compaction already replaced both land, and the rows of those files are then in the
//! table twice. Within one server the write turn keeps such statements apart; this guard covers
//! writers in other processes and servers sharing the table. It hooks each table's log store
//! (every storage scheme, [`super::entry_hook`]) and, only when other commits landed between a commit's read version
//! and the version it is written at, reads those commits' removes before writing it.

use std::collections::HashSet;
use std::sync::Arc;

use deltalake::DeltaResult;
use deltalake::kernel::transaction::{CommitConflictError, TransactionError};
use deltalake::logstore::{LogStore, LogStoreFactory, ObjectStoreRef, StorageConfig};
use url::Url;

use super::entry_hook::{CommitEntryHook, HookedLogStore, actions};

/// Wraps the log store factory of every registered storage scheme with the guard (once per
/// process; the storage handlers register themselves before `main`).
pub fn install_conflict_guard() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(wrap_factories);
}

fn wrap_factories() {
    let registry = deltalake::logstore::logstore_factories();
    let schemes: Vec<Url> = registry.iter().map(|entry| entry.key().clone()).collect();
    for scheme in schemes {
        let Some(inner) = registry.get(&scheme).map(|entry| entry.value().clone()) else {
            continue;
        };
        let guarded: Arc<dyn LogStoreFactory> = Arc::new(GuardedFactory { inner });
        registry.insert(scheme, guarded);
    }
}

struct GuardedFactory {
    inner: Arc<dyn LogStoreFactory>,
}

impl LogStoreFactory for GuardedFactory {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        let inner = self
            .inner
            .with_options(prefixed_store, root_store, location, options)?;
        Ok(Arc::new(HookedLogStore {
            inner,
            hook: RemoveGuard,
        }))
    }
}

/// The hook that checks a commit's removes against the commits that landed since its read
/// version before it is written.
struct RemoveGuard;

#[async_trait::async_trait]
impl CommitEntryHook for RemoveGuard {
    async fn before_write(
        &self,
        inner: &dyn LogStore,
        version: u64,
        entry: Option<&[u8]>,
    ) -> Result<Option<Vec<u8>>, TransactionError> {
        if let Some(commit) = entry {
            check(inner, version, commit).await?;
        }
        Ok(None)
    }
}

/// Err when a commit between the read version of `commit` and `version` removed a file that
/// `commit` removes.
async fn check(inner: &dyn LogStore, version: u64, commit: &[u8]) -> Result<(), TransactionError> {
    if !may_remove(commit) {
        return Ok(());
    }
    let Some((read_version, removes)) = read_version_and_removes(commit) else {
        return Ok(());
    };
    if removes.is_empty() || read_version + 1 >= version {
        return Ok(());
    }
    for winner in read_version + 1..version {
        let Ok(Some(bytes)) = inner.read_commit_entry(winner).await else {
            continue;
        };
        let winner_removes = removed_paths(&bytes);
        if let Some(path) = removes.iter().find(|p| winner_removes.contains(*p)) {
            tracing::warn!(
                version,
                read_version,
                winner,
                path = %path,
                "commit refused: a concurrent commit already removed a file it removes"
            );
            return Err(TransactionError::CommitConflict(
                CommitConflictError::ConcurrentDeleteDelete,
            ));
        }
    }
    Ok(())
}

/// The `readVersion` of a commit's commitInfo and the paths it removes; None without a read
/// version (a blind first write) or when the text is not a commit.
fn read_version_and_removes(commit: &[u8]) -> Option<(u64, HashSet<String>)> {
    let mut read_version = None;
    let mut removes = HashSet::new();
    for action in actions(commit) {
        let action = action?;
        if let Some(path) = removed_path(&action) {
            removes.insert(path);
        } else if let Some(v) = action
            .pointer("/commitInfo/readVersion")
            .and_then(|v| v.as_u64())
        {
            read_version = Some(v);
        }
    }
    Some((read_version?, removes))
}

/// The paths a commit removes (any `dataChange`).
fn removed_paths(commit: &[u8]) -> HashSet<String> {
    actions(commit)
        .flatten()
        .filter_map(|action| removed_path(&action))
        .collect()
}

/// The path a remove action removes; None for any other action.
fn removed_path(action: &serde_json::Value) -> Option<String> {
    action
        .pointer("/remove/path")
        .and_then(|p| p.as_str())
        .map(str::to_string)
}

/// Whether a commit's text can hold a remove action at all: most commits (appends) do not, and
/// are then not parsed.
fn may_remove(commit: &[u8]) -> bool {
    commit.windows(REMOVE_KEY.len()).any(|w| w == REMOVE_KEY)
}

const REMOVE_KEY: &[u8] = b"\"remove\"";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_read_version_and_removes_of_a_commit() {
        let commit = br#"{"commitInfo":{"timestamp":1,"operation":"OPTIMIZE","readVersion":7}}
{"remove":{"path":"day=0/a.parquet","dataChange":false}}
{"add":{"path":"day=0/b.parquet","dataChange":false}}
"#;
        let (read_version, removes) = read_version_and_removes(commit).unwrap();
        assert_eq!(read_version, 7);
        assert_eq!(removes, HashSet::from(["day=0/a.parquet".to_string()]));
        assert_eq!(removed_paths(commit), removes);
        assert!(read_version_and_removes(br#"{"add":{"path":"x"}}"#).is_none());
        assert!(may_remove(commit));
        assert!(!may_remove(br#"{"add":{"path":"x"}}"#));
    }

    /// Two compactions planned on the same version: delta-rs alone lets both commit (the rows of
    /// the compacted files would be in the table twice); with the guard the second is a conflict
    /// and the table keeps its rows once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_second_compaction_of_the_same_files_is_a_conflict() {
        use deltalake::operations::optimize::OptimizeType;
        use deltalake::protocol::SaveMode;

        use crate::delta::test_support::{one_row, partitioned_table, row_counts};

        crate::delta::install_local_store();
        install_conflict_guard();
        let dir = tempfile::tempdir().unwrap();
        let url = Url::from_directory_path(dir.path()).unwrap();
        let (mut table, schema) = partitioned_table(&url, &[]).await;
        for i in 0..10 {
            table = table
                .write(vec![one_row(&schema, i)])
                .with_save_mode(SaveMode::Append)
                .await
                .unwrap();
        }
        let stale = table.clone();
        table
            .optimize()
            .with_type(OptimizeType::Compact)
            .await
            .unwrap();
        let second = stale.optimize().with_type(OptimizeType::Compact).await;
        let Err(error) = second else {
            panic!("the second compaction must not commit");
        };
        assert!(
            error.to_string().contains("deleted the same data"),
            "{error}"
        );
        assert_eq!(row_counts(&url).await, (10, 10));
    }
}
