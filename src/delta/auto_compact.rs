//! Auto-compaction (`delta.autoOptimize.autoCompact`, Databricks' table property): after a
//! write, a table whose partitions pile up small files gets them compacted in the background,
//! as its own OPTIMIZE commit, so a table fed by many small appends (a pipeline's history, a
//! trickle of single-row INSERTs) keeps reading fast.
//!
//! A partition qualifies once it holds `deltagres.autoCompact.minNumFiles` (default 50, as
//! Databricks' `minNumFiles`) files smaller than half the table's target file size. The
//! compaction is delta-rs's own bin-packing OPTIMIZE over the whole table: partitions with fewer
//! small files are left as they are. delta-rs refuses tables with column mapping (a renamed or
//! dropped column); those are compacted by [`compact_mapped`], the same choice of files
//! rewritten through [`super::rewrite_files`].

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU64;

use datafusion::prelude::{SessionContext, ident};
use deltalake::DeltaTable;
use deltalake::operations::optimize::{Metrics, OptimizeType};
use deltalake::table::config::TablePropertiesExt as _;

use super::StorageOptions;
use crate::error::Result;

/// The table property that turns auto-compaction on (`true`, or Databricks' `auto`/`legacy`).
pub const AUTO_COMPACT_PROPERTY: &str = "delta.autoOptimize.autoCompact";
/// The table property for how many small files a partition may collect first.
pub const MIN_FILES_PROPERTY: &str = "deltagres.autoCompact.minNumFiles";
/// Databricks' default for `minNumFiles`.
const DEFAULT_MIN_FILES: usize = 50;

/// Whether `table` asks for auto-compaction and has a partition with enough small files.
pub fn compaction_due(table: &DeltaTable) -> Result<bool> {
    let snapshot = table.snapshot()?;
    let properties = snapshot.metadata().configuration();
    let enabled = properties
        .get(AUTO_COMPACT_PROPERTY)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "auto" | "legacy"));
    if !enabled {
        return Ok(false);
    }
    let min_files = properties
        .get(MIN_FILES_PROPERTY)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n >= 2)
        .unwrap_or(DEFAULT_MIN_FILES);
    let small = (snapshot.table_config().target_file_size().get() / 2) as i64;
    let mut per_partition: HashMap<Vec<(String, Option<String>)>, usize> = HashMap::new();
    for file in snapshot.log_data().iter() {
        if file.size() < small {
            let key = super::partition_key(&file.partition_values_map());
            *per_partition.entry(key).or_default() += 1;
        }
    }
    Ok(per_partition.values().any(|n| *n >= min_files))
}

/// Compacts `table`'s small files in one OPTIMIZE commit (delta-rs's bin-packing, or
/// [`compact_mapped`] for a table with column mapping).
pub async fn compact(table: DeltaTable, storage: &StorageOptions) -> Result<Metrics> {
    let target = table.snapshot()?.table_config().target_file_size();
    if super::maps_columns(&table)? {
        return Ok(compact_mapped(table, storage, None, None, target).await?.1);
    }
    let (_, metrics) = super::operable(&table)?
        .optimize()
        .with_type(OptimizeType::Compact)
        .with_target_size(target)
        .await?;
    Ok(metrics)
}

/// Bin-packing compaction of a table with column mapping, which delta-rs's OPTIMIZE refuses: the
/// files under `target` bytes of each partition that has at least two of them (among `scope`,
/// the files OPTIMIZE's WHERE selected, when given) are rewritten in partition order as one
/// OPTIMIZE commit, as delta-rs chooses them.
pub async fn compact_mapped(
    table: DeltaTable,
    storage: &StorageOptions,
    scope: Option<&HashSet<String>>,
    predicate: Option<String>,
    target: NonZeroU64,
) -> Result<(DeltaTable, Metrics)> {
    let snapshot = table.snapshot()?;
    let mut per_partition: HashMap<Vec<(String, Option<String>)>, Vec<String>> = HashMap::new();
    for file in snapshot.log_data().iter() {
        let path = file.path().to_string();
        if file.size() as u64 >= target.get() || scope.is_some_and(|s| !s.contains(&path)) {
            continue;
        }
        let key = super::partition_key(&file.partition_values_map());
        per_partition.entry(key).or_default().push(path);
    }
    let files: Vec<String> = per_partition
        .into_values()
        .filter(|paths| paths.len() > 1)
        .flatten()
        .collect();
    if files.is_empty() {
        return Ok((table, Metrics::default()));
    }
    let partition_columns: Vec<String> = snapshot.metadata().partition_columns().to_vec();
    let provider = table
        .table_provider()
        .with_file_paths(
            files
                .iter()
                .map(|p| String::from(deltalake::Path::from(p.as_str()))),
        )
        .await?;
    let mut rows = SessionContext::new().read_table(provider)?;
    if !partition_columns.is_empty() {
        rows = rows.sort(
            partition_columns
                .iter()
                .map(|c| ident(c).sort(true, false))
                .collect(),
        )?;
    }
    let stream = rows.execute_stream().await?;
    let before: HashSet<String> = snapshot
        .log_data()
        .iter()
        .map(|f| f.path().to_string())
        .collect();
    let removed = files.len() as u64;
    let table = super::rewrite_files(table, storage, stream, files, predicate, target, &[]).await?;
    let added = table
        .snapshot()?
        .log_data()
        .iter()
        .filter(|f| !before.contains(f.path().as_ref()))
        .count() as u64;
    let metrics = Metrics {
        num_files_removed: removed,
        num_files_added: added,
        ..Default::default()
    };
    Ok((table, metrics))
}
