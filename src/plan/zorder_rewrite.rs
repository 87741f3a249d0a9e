//! The rewrite of `OPTIMIZE ... ZORDER BY`: the rows in scope are sampled once to place the
//! range boundaries of the clustering key (see `delta::ZOrderKey`), then each partition's rows
//! are sorted by that key and written into new files, partitions side by side on all cores, and
//! one commit replaces the old files by the new ones.
//!
//! A file never holds rows of two partitions, so each partition is sorted on its own: the sort
//! key is one UInt64 column (DataFusion's fast single-column sort, no row-format comparisons),
//! and no merge of all partitions into one stream stands between the sorts and the writers.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat, take_record_batch};
use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::execution::SessionState;
use datafusion::logical_expr::ScalarUDF;
use deltalake::DeltaTable;
use deltalake::kernel::Add;
use futures::StreamExt;

use super::PlanContext;
use super::optimize::RewriteScope;
use crate::delta::{StorageOptions, ZORDER_KEY_FUNCTION, ZOrderKey};
use crate::error::{Error, Result};
use crate::output::Notice;

/// Rows sampled per OPTIMIZE to place the range boundaries of the z-order columns.
const ZORDER_SAMPLE_ROWS: usize = 100_000;
/// The name the rows being rewritten are read under (in a context private to the rewrite).
const SCOPE_TABLE: &str = "__deltagres_optimize.s.scope";

/// Rewrites the rows of the files in scope in clustering-key order, replacing them in one commit.
///
/// The rows are read from exactly those files, at the version the scope was chosen from: the
/// commit removes what was read and nothing else, so rows of other partitions and rows appended
/// while the rewrite runs are neither lost nor duplicated (a concurrent change to a file in scope
/// is a commit conflict, 40001).
pub(super) async fn zorder_rewrite(
    cx: &mut PlanContext<'_>,
    table: DeltaTable,
    clustering: &[String],
    scope: RewriteScope,
) -> Result<DeltaTable> {
    let RewriteScope {
        where_sql,
        files: in_scope,
        target_size,
    } = scope;
    if in_scope.is_empty() {
        return Ok(table);
    }
    let in_scope: HashSet<String> = in_scope.into_iter().collect();
    let key_columns: Vec<String> = clustering
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect();
    let state = cx.df.state();
    let all_rows = scope_context(&state, &table, in_scope.iter()).await?;
    let groups = crate::delta::files_by_partition(&table, &in_scope)?;
    // Every k-th row: a deterministic sample, so the same table always clusters the same way.
    let rows: u64 = groups.iter().map(|g| g.rows).sum();
    let every = (rows as usize / ZORDER_SAMPLE_ROWS).max(1);
    let keys_only = all_rows
        .sql(&format!(
            "SELECT {} FROM {SCOPE_TABLE}",
            key_columns.join(", ")
        ))
        .await?;
    let samples = sample_every(keys_only, every, clustering.len()).await?;
    if samples.first().is_none_or(|s| s.is_empty()) {
        return Ok(table);
    }
    let key = ZOrderKey::from_samples(&samples)?;
    cx.notices.push(Notice::note(
        "00000",
        format!(
            "z-order: ranges placed from {} sampled rows; rewriting {} partition(s)",
            samples[0].len(),
            groups.len()
        ),
    ));
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let streams = sort_streams(&state, cores);
    let side_by_side = groups.len().clamp(1, streams);
    // Streams left over when there are fewer partitions than streams go to each partition's
    // scan and sort (one partition alone uses them all).
    let mut group_state = state.clone();
    group_state
        .config_mut()
        .options_mut()
        .execution
        .target_partitions = (streams / side_by_side).max(1);
    let job = GroupJob {
        state: group_state,
        key,
        key_sql: format!("{ZORDER_KEY_FUNCTION}({})", key_columns.join(", ")),
        table: table.clone(),
        storage: cx.catalog.storage_options().clone(),
        target_size,
    };
    // Dropping the set (the statement cancelled, another partition failed) stops every sort.
    let mut running = tokio::task::JoinSet::new();
    let mut waiting = groups.into_iter();
    let mut adds = Vec::new();
    loop {
        while running.len() < side_by_side {
            let Some(files) = waiting.next() else { break };
            running.spawn(job.clone().run(files));
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        adds.extend(done.map_err(|e| Error::internal(format!("z-order rewrite: {e}")))??);
    }
    crate::delta::commit_rewrite(table, &in_scope, adds, where_sql, target_size, clustering).await
}

/// Pool memory one sort stream is given room for. A DataFusion sort keeps
/// `sort_spill_reservation_bytes` (10 MB) aside to merge its spill files, and sorts side by side
/// (or the parts of one sort, merged by a SortPreservingMergeExec that cannot spill) each need
/// theirs: under a tight pool several streams fail with 53200 where one finishes by spilling.
const POOL_PER_SORT_STREAM: usize = 64 << 20;

/// How many sorts run at once (partitions side by side, or the parts of one partition's sort):
/// one per core, fewer when the engine's memory pool is too small to give each its room.
fn sort_streams(state: &SessionState, cores: usize) -> usize {
    use datafusion::execution::memory_pool::MemoryLimit;
    match state.runtime_env().memory_pool.memory_limit() {
        MemoryLimit::Finite(bytes) => (bytes / POOL_PER_SORT_STREAM).clamp(1, cores),
        MemoryLimit::Infinite | MemoryLimit::Unknown => cores,
    }
}

/// What rewriting one partition needs, owned, so partitions run as tasks of their own.
#[derive(Clone)]
struct GroupJob {
    state: SessionState,
    key: ScalarUDF,
    key_sql: String,
    table: DeltaTable,
    storage: StorageOptions,
    target_size: std::num::NonZeroU64,
}

impl GroupJob {
    /// Sorts the rows of `files` (one partition's) by the clustering key and writes them into
    /// new files; returns their Add actions, uncommitted.
    async fn run(self, files: crate::delta::PartitionFiles) -> Result<Vec<Add>> {
        let started = std::time::Instant::now();
        let ctx = scope_context(&self.state, &self.table, files.paths.iter()).await?;
        ctx.register_udf(self.key);
        let sorted = ctx
            .sql(&format!(
                "SELECT * FROM {SCOPE_TABLE} ORDER BY {}",
                self.key_sql
            ))
            .await?
            .execute_stream()
            .await?;
        let adds = crate::delta::write_ordered_files(
            self.table,
            self.storage,
            sorted,
            (files.bytes, files.rows),
            self.target_size,
        )
        .await?;
        tracing::info!(
            files_in = files.paths.len(),
            files_out = adds.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "z-order: partition rewritten"
        );
        Ok(adds)
    }
}

/// A context private to the rewrite in which [`SCOPE_TABLE`] reads exactly the given files of
/// `table` (at the version `table` was loaded at).
async fn scope_context(
    state: &SessionState,
    table: &DeltaTable,
    files: impl Iterator<Item = &String>,
) -> Result<datafusion::prelude::SessionContext> {
    let rows = table
        .table_provider()
        .with_session(Arc::new(state.clone()))
        // Selected as delta-rs selects Add actions: the decoded log path as an object-store
        // path (partition values with `:` or spaces are encoded as in the table's URLs).
        .with_file_paths(files.map(|p| String::from(deltalake::Path::from(p.as_str()))))
        .await?;
    let schema = Arc::new(MemorySchemaProvider::new());
    schema.register_table("scope".into(), rows)?;
    super::planned::private_context(state.clone(), "__deltagres_optimize", "s", schema)
}

/// About one row in `every` of each scan partition, read on all partitions at once: a
/// deterministic sample (the same files always give the same rows) that costs one parallel scan
/// of the key columns. One array per column.
async fn sample_every(
    keys: datafusion::dataframe::DataFrame,
    every: usize,
    columns: usize,
) -> Result<Vec<ArrayRef>> {
    let mut partitions = tokio::task::JoinSet::new();
    for (index, mut stream) in keys
        .execute_stream_partitioned()
        .await?
        .into_iter()
        .enumerate()
    {
        partitions.spawn(async move {
            let (mut seen, mut taken) = (0usize, Vec::new());
            while let Some(batch) = stream.next().await {
                let batch = batch?;
                // A row is taken when a hash of its position says so: about one in `every`,
                // the same rows every time, and no stride that periodic data could line up with
                // (every 10th row of `g % 30` would see 3 of the 30 values).
                let rows: UInt32Array = (0..batch.num_rows())
                    .filter(|i| {
                        let position = ((index as u64) << 40) ^ (seen + i) as u64;
                        mix(position).is_multiple_of(every as u64)
                    })
                    .map(|i| i as u32)
                    .collect();
                if !rows.is_empty() {
                    taken.push(take_record_batch(&batch, &rows)?);
                }
                seen += batch.num_rows();
            }
            Ok::<_, datafusion::error::DataFusionError>((index, taken))
        });
    }
    let mut by_partition = Vec::new();
    while let Some(done) = partitions.join_next().await {
        by_partition.push(done.map_err(|e| Error::internal(format!("z-order sample: {e}")))??);
    }
    by_partition.sort_by_key(|(index, _)| *index);
    let batches: Vec<RecordBatch> = by_partition.into_iter().flat_map(|(_, b)| b).collect();
    (0..columns)
        .map(|i| {
            let arrays: Vec<&dyn datafusion::arrow::array::Array> =
                batches.iter().map(|b| b.column(i).as_ref()).collect();
            Ok(if arrays.is_empty() {
                datafusion::arrow::array::new_empty_array(&DataType::Utf8)
            } else {
                concat(&arrays)?
            })
        })
        .collect()
}

/// SplitMix64's finalizer: spreads row positions into well-mixed 64-bit values.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
