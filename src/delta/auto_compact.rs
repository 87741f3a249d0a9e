//! Auto-compaction (`delta.autoOptimize.autoCompact`, Databricks' table property): after a
//! write, a table whose partitions pile up small files gets them compacted in the background,
//! as its own OPTIMIZE commit, so a table fed by many small appends (a pipeline's history, a
//! trickle of single-row INSERTs) keeps reading fast.
//!
//! A partition qualifies once it holds `deltagres.autoCompact.minNumFiles` (default 50, as
//! Databricks' `minNumFiles`) files smaller than half the table's target file size. The
//! compaction is delta-rs's own bin-packing OPTIMIZE over the whole table: partitions with fewer
//! small files are left as they are.

use std::collections::HashMap;

use deltalake::DeltaTable;
use deltalake::operations::optimize::{Metrics, OptimizeType};
use deltalake::table::config::TablePropertiesExt as _;

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
    let mut per_partition: HashMap<String, usize> = HashMap::new();
    for file in snapshot.log_data().iter() {
        if file.size() < small {
            let key = serde_json::to_string(&file.partition_values_map()).unwrap_or_default();
            *per_partition.entry(key).or_default() += 1;
        }
    }
    Ok(per_partition.values().any(|n| *n >= min_files))
}

/// Compacts `table`'s small files in one OPTIMIZE commit (delta-rs's bin-packing).
pub async fn compact(table: DeltaTable) -> Result<Metrics> {
    let target = table.snapshot()?.table_config().target_file_size();
    let (_, metrics) = table
        .optimize()
        .with_type(OptimizeType::Compact)
        .with_target_size(target)
        .await?;
    Ok(metrics)
}
