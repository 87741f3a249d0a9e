//! A table's loaded Delta state, kept between statements and brought up to date for the price of
//! one small read when nothing changed.
//!
//! delta-rs refreshes a loaded table by listing its whole `_delta_log` and replaying every file
//! entry it holds, once per commit loaded since the table was opened: a table opened before a
//! thousand one-row INSERTs carries a thousand one-row batches, and every refresh and every
//! commit walks all of them. Two things keep a statement's cost flat as a table ages:
//! - nothing is refreshed unless the next version's commit file exists (one HEAD request);
//! - once a newer checkpoint exists than the one the state grew from and a checkpoint interval
//!   of commits has piled up, the table is reopened from that checkpoint (one batch again).

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use deltalake::DeltaTable;
use deltalake::table::config::TablePropertiesExt as _;
use object_store::ObjectStoreExt as _;
use url::Url;

use super::StorageOptions;
use crate::error::{Error, ErrorKind, Result};

/// The loaded state of one table, or nothing before its first use.
#[derive(Debug, Default)]
pub struct CachedTable {
    loaded: Option<Loaded>,
    /// The provider reading the version it names (see [`CachedTable::current_provider`]).
    provider: Option<(Option<u64>, Arc<dyn TableProvider>)>,
}

#[derive(Debug)]
struct Loaded {
    table: DeltaTable,
    /// The checkpoint version the state was opened from (-1 without one): every version after
    /// it is one more batch each refresh walks.
    base_version: i64,
}

impl CachedTable {
    /// The table's latest committed state; `name` only words errors.
    pub async fn current(
        &mut self,
        location: &Url,
        name: &str,
        options: &StorageOptions,
    ) -> Result<DeltaTable> {
        match self.loaded.as_mut() {
            None => self.loaded = Some(open(location, name, options).await?),
            Some(loaded) => {
                if next_commit_exists(&loaded.table).await {
                    loaded.table.update_state().await?;
                }
                if loaded.grown_past_checkpoint().await {
                    tracing::debug!(table = name, "reopening from the latest checkpoint");
                    self.loaded = Some(open(location, name, options).await?);
                }
            }
        }
        Ok(self.loaded.as_ref().expect("loaded above").table.clone())
    }

    /// A provider reading the table's latest committed state, built once per version and
    /// shared by every statement that reads that version: building one (delta-rs normalizes the
    /// location and derives the scan schema) was a third of a catalog query's time, since
    /// `pg_class` and `information_schema` open every table.
    pub async fn current_provider(
        &mut self,
        location: &Url,
        name: &str,
        options: &StorageOptions,
    ) -> Result<Arc<dyn TableProvider>> {
        let table = self.current(location, name, options).await?;
        let version = table.version();
        if let Some((kept, provider)) = &self.provider
            && *kept == version
        {
            return Ok(provider.clone());
        }
        let provider = super::read_provider(&table).await?;
        self.provider = Some((version, provider.clone()));
        Ok(provider)
    }

    /// Takes the state a statement's own commit left (delta-rs brings the written table up to
    /// its new version after committing, replaying only that commit) instead of replaying the
    /// commit again on the next [`Self::current`]: on a table of many files each replay walks
    /// every file's entry, and a write followed by a refresh paid it twice. A state not newer
    /// than the one held is ignored, so a late writer never moves the cache back.
    pub fn adopt(&mut self, committed: &DeltaTable) {
        let Some(loaded) = self.loaded.as_mut() else {
            return;
        };
        let newer = match (committed.version(), loaded.table.version()) {
            (Some(new), Some(held)) => new > held,
            (Some(_), None) => true,
            _ => false,
        };
        // A state built on a write's copy of the snapshot (see `super::operable`) has lost
        // features from its protocol: never kept.
        let copied = match (committed.snapshot(), loaded.table.snapshot()) {
            (Ok(new), Ok(held)) => {
                super::lists_handled_feature(held.protocol())
                    && !super::lists_handled_feature(new.protocol())
            }
            _ => false,
        };
        if newer && !copied && committed.snapshot().is_ok() {
            loaded.table = committed.clone();
        }
    }
}

impl Loaded {
    /// Whether a checkpoint interval of commits has grown on the state since it was opened and
    /// a newer checkpoint can take their place.
    async fn grown_past_checkpoint(&self) -> bool {
        let Ok(snapshot) = self.table.snapshot() else {
            return false;
        };
        let interval = snapshot.table_config().checkpoint_interval().get() as i64;
        let version = self.table.version().map_or(-1, |v| v as i64);
        // The version test first: the checkpoint hint is read once per interval, not per call.
        version - self.base_version > interval
            && last_checkpoint_version(&self.table)
                .await
                .is_some_and(|v| v > self.base_version)
    }
}

async fn open(location: &Url, name: &str, options: &StorageOptions) -> Result<Loaded> {
    if !super::is_object_store(location) {
        // A local folder that is gone fails here, as storage (58030), not as a corrupt log.
        deltalake::table::builder::parse_table_uri(location.as_str()).map_err(|e| {
            tracing::warn!(table = name, %location, cause = %e, "cannot open a Delta table");
            Error::new(
                ErrorKind::IoError,
                format!(
                    "table {name} cannot be read ({location}): its folder does not exist or cannot be read"
                ),
            )
        })?;
    }
    let table = options
        .table_builder(location)
        // The location itself is unusable (a folder that is gone, a bad URL): storage, 58030.
        .map_err(|e| {
            tracing::warn!(table = name, %location, cause = %e.message, "cannot open a Delta table");
            Error::new(
                ErrorKind::IoError,
                format!("table {name} cannot be read ({location}): {}", e.message),
            )
        })?
        .load()
        .await
        .map_err(|e| open_error(name, location, &e.to_string()))?;
    let base_version = last_checkpoint_version(&table).await.unwrap_or(-1);
    Ok(Loaded {
        table,
        base_version,
    })
}

/// Why a table cannot be opened, with the SQLSTATE of the kind of fault: a feature this server
/// cannot read (0A000), a log that does not parse (XX001), or storage that failed or is gone
/// (58030). One line, naming the table; the library's backtrace stays in the server log.
fn open_error(name: &str, location: &Url, cause: &str) -> Error {
    let first_line = cause.lines().next().unwrap_or(cause).trim();
    tracing::warn!(table = name, %location, cause, "cannot open a Delta table");
    let lower = first_line.to_ascii_lowercase();
    let (kind, what) = if lower.contains("unsupported") && lower.contains("feature") {
        (
            ErrorKind::FeatureNotSupported,
            "needs a Delta feature this server cannot read",
        )
    } else if lower.contains("json error")
        || lower.contains("parse")
        || lower.contains("parquet error")
        || lower.contains("invalid")
        || lower.contains("missing")
    {
        (ErrorKind::DataCorrupted, "has a corrupt Delta log")
    } else {
        (ErrorKind::IoError, "cannot be read")
    };
    Error::new(
        kind,
        format!("table {name} {what} ({location}): {first_line}"),
    )
}

/// Whether the commit after the loaded version has been written (by anyone). A failed probe
/// counts as yes: the full refresh then decides.
async fn next_commit_exists(table: &DeltaTable) -> bool {
    let Some(version) = table.version() else {
        return true;
    };
    let store = table.log_store();
    let path = store
        .log_path()
        .clone()
        .join(format!("{:020}.json", version + 1).as_str());
    match store.object_store(None).head(&path).await {
        Ok(_) => true,
        Err(object_store::Error::NotFound { .. }) => false,
        Err(_) => true,
    }
}

/// The version `_delta_log/_last_checkpoint` names, if the table has a checkpoint.
pub async fn last_checkpoint_version(table: &DeltaTable) -> Option<i64> {
    let bytes = read_log_file(table, "_last_checkpoint").await?;
    let hint: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    hint.get("version")?.as_i64()
}

/// The bytes of `_delta_log/<name>`; None when it cannot be read.
pub async fn read_log_file(table: &DeltaTable, name: &str) -> Option<bytes::Bytes> {
    let store = table.log_store();
    let path = store.log_path().clone().join(name);
    store
        .object_store(None)
        .get(&path)
        .await
        .ok()?
        .bytes()
        .await
        .ok()
}

#[cfg(test)]
mod tests {
    use deltalake::operations::optimize::OptimizeType;
    use deltalake::protocol::SaveMode;

    use crate::delta::test_support::{live_files, one_row, partitioned_table, row_counts};

    /// A write whose read state predates a compaction commits after it (a retry); the state it
    /// returns must list the same live files as the table read afresh.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writes_state_after_a_compaction_lists_the_live_files() {
        super::super::install_local_store();
        let dir = tempfile::tempdir().unwrap();
        let url = url::Url::from_directory_path(dir.path()).unwrap();
        let (mut table, schema) = partitioned_table(&url, &[]).await;
        for round in 0..3 {
            for i in 0..30 {
                table = table
                    .write(vec![one_row(&schema, round * 100 + i)])
                    .with_save_mode(SaveMode::Append)
                    .with_commit_properties(super::super::quiet_commit())
                    .await
                    .unwrap();
            }
            if round == 1 {
                super::super::checkpoint_if_due(&table).await.unwrap();
                deltalake::checkpoints::create_checkpoint(&table, None)
                    .await
                    .unwrap();
            }
            let stale = table.clone();
            let (compacted, _) = table
                .clone()
                .optimize()
                .with_type(OptimizeType::Compact)
                .await
                .unwrap();
            assert!(compacted.version() > stale.version());
            let written = stale
                .clone()
                .write(vec![one_row(&schema, round * 100 + 99)])
                .with_save_mode(SaveMode::Append)
                .with_commit_properties(super::super::quiet_commit())
                .await
                .unwrap();
            let fresh = deltalake::open_table(url.clone()).await.unwrap();
            assert_eq!(written.version(), fresh.version());
            assert_eq!(
                live_files(&written),
                live_files(&fresh),
                "round {round}: post-commit state"
            );
            let mut refreshed = stale.clone();
            refreshed.update_state().await.unwrap();
            assert_eq!(
                live_files(&refreshed),
                live_files(&fresh),
                "round {round}: refreshed state"
            );
            table = written;
        }
    }

    /// Writers that keep the state their commit returned, checkpoints every 10 commits and
    /// compactions running beside them: every state and the table read afresh agree on the
    /// live files, and no row is lost or doubled.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kept_write_states_with_background_compactions_stay_exact() {
        super::super::install_local_store();
        let dir = tempfile::tempdir().unwrap();
        let url = url::Url::from_directory_path(dir.path()).unwrap();
        let (mut table, schema) =
            partitioned_table(&url, &[("delta.checkpointInterval", "10")]).await;
        let mut compactions = tokio::task::JoinSet::new();
        let mut reader = deltalake::open_table(url.clone()).await.unwrap();
        for i in 0..300i64 {
            table = table
                .write(vec![one_row(&schema, i)])
                .with_save_mode(SaveMode::Append)
                .with_commit_properties(super::super::quiet_commit())
                .await
                .unwrap();
            super::super::checkpoint_if_due(&table).await.unwrap();
            if i % 20 == 19 {
                let base = table.clone();
                compactions.spawn(async move {
                    let _ = base.optimize().with_type(OptimizeType::Compact).await;
                });
            }
            if i % 10 == 9 {
                // Each state against the table read afresh at the same version.
                let at = |v: Option<u64>| {
                    let url = url.clone();
                    async move {
                        deltalake::open_table_with_version(url, v.unwrap())
                            .await
                            .unwrap()
                    }
                };
                reader.update_state().await.unwrap();
                let fresh = at(reader.version()).await;
                assert_eq!(live_files(&reader), live_files(&fresh), "reader after {i}");
                let fresh = at(table.version()).await;
                assert_eq!(live_files(&table), live_files(&fresh), "kept after {i}");
                let mut refreshed = table.clone();
                refreshed.update_state().await.unwrap();
                let fresh = at(refreshed.version()).await;
                assert_eq!(
                    live_files(&refreshed),
                    live_files(&fresh),
                    "refreshed after {i}"
                );
            }
        }
        while compactions.join_next().await.is_some() {}
        let fresh = deltalake::open_table(url.clone()).await.unwrap();
        let mut refreshed = table.clone();
        refreshed.update_state().await.unwrap();
        assert_eq!(live_files(&refreshed), live_files(&fresh));
        reader.update_state().await.unwrap();
        assert_eq!(live_files(&reader), live_files(&fresh));
        assert_eq!(row_counts(&url).await, (300, 300));
    }
}
