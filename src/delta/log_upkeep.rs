//! Keeping a table's log short as it ages, as Delta defines it: a checkpoint every
//! `delta.checkpointInterval` commits (default 100) and, with it, removal of the log files that
//! `delta.logRetentionDuration` (default 30 days) no longer keeps.
//!
//! delta-rs does this after its own operations, but not after commits made through DataFusion's
//! INSERT path or our own rewrites; without it every commit and every read lists and replays
//! the whole log, and gets slower with each version. [`checkpoint_if_due`] runs after every
//! statement that commits, whichever path committed, and is a no-op when the last checkpoint
//! is recent.

use deltalake::DeltaTable;
use deltalake::table::config::TablePropertiesExt as _;

use super::cached::last_checkpoint_version;
use crate::error::Result;

/// Writes a checkpoint of `table`'s loaded version when `delta.checkpointInterval` commits or
/// more have passed since the last one, then removes expired log files (never one that a
/// version inside the retention still needs: delta-rs keeps the checkpoint at or before it).
pub async fn checkpoint_if_due(table: &DeltaTable) -> Result<()> {
    let snapshot = table.snapshot()?;
    let version = snapshot.version();
    let config = snapshot.table_config();
    let interval = config.checkpoint_interval().get() as i64;
    let last = last_checkpoint_version(table).await;
    // The first checkpoint at version interval - 1 (the interval-th commit), as delta-rs places it.
    let version = version as i64;
    if version < last.unwrap_or(-1) + interval {
        return Ok(());
    }
    let started = std::time::Instant::now();
    deltalake::checkpoints::create_checkpoint(table, None).await?;
    let removed_log_files = if config.enable_expired_log_cleanup() {
        deltalake::checkpoints::cleanup_metadata(table, None).await?
    } else {
        0
    };
    tracing::info!(
        table = %table.table_url(),
        version,
        removed_log_files,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "checkpoint written"
    );
    Ok(())
}
