//! Rewriting a table's files in a given row order as one OPTIMIZE commit: the rows stream from a
//! sorted query into new files of the target size, then one commit removes the old files and adds
//! the new ones, both marked `dataChange = false` (the table's content is unchanged, so streaming
//! readers skip it), recorded as an OPTIMIZE in the history.
//!
//! The sorted stream is cut into files here, in order, and each file is encoded by its own task:
//! while one file's rows still arrive, the files before it are being compressed and uploaded on
//! the other cores, so parquet encoding no longer runs on the one thread the sort merges on.

use std::collections::{HashSet, VecDeque};
use std::num::NonZeroU64;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::SendableRecordBatchStream;
use deltalake::DeltaTable;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::kernel::{Action, Add};
use deltalake::protocol::DeltaOperation;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::StorageOptions;
use super::column_mapping::PhysicalLayout;
use crate::error::{Error, Result};

/// Batches a file's task may have queued before the sorted stream waits for it: enough for the
/// next file to start while this one is still being encoded, few enough to bound memory.
const QUEUED_BATCHES_PER_FILE: usize = 64;

/// Replaces the files `in_scope` by the rows of `rows`, written in their order, which clusters
/// them by `zorder_by` (recorded in the commit as `zOrderBy`, where Spark's history keeps it).
pub async fn rewrite_files(
    table: DeltaTable,
    storage: &StorageOptions,
    rows: SendableRecordBatchStream,
    in_scope: Vec<String>,
    predicate: Option<String>,
    target_size: NonZeroU64,
    zorder_by: &[String],
) -> Result<DeltaTable> {
    if in_scope.is_empty() {
        return Ok(table);
    }
    let in_scope: HashSet<String> = in_scope.into_iter().collect();
    // The files being replaced tell how many bytes a row takes once encoded.
    let groups = files_by_partition(&table, &in_scope)?;
    let estimate = groups
        .iter()
        .fold((0, 0), |(b, r), g| (b + g.bytes, r + g.rows));
    let adds =
        write_ordered_files(table.clone(), storage.clone(), rows, estimate, target_size).await?;
    commit_rewrite(table, &in_scope, adds, predicate, target_size, zorder_by).await
}

/// The files of one partition that a rewrite replaces, with their bytes and rows (the first
/// estimate of how many rows make a file of the target size).
#[derive(Debug, Clone, Default)]
pub struct PartitionFiles {
    /// The files' paths as the log names them, in log order.
    pub paths: Vec<String>,
    /// Their size in bytes.
    pub bytes: u64,
    /// Their rows (from the file statistics; 0 where a file has none).
    pub rows: u64,
}

/// The files `in_scope` grouped by the partition they belong to (one group for a table without
/// partition columns): the parts a rewrite may sort and write independently, since no file ever
/// holds rows of two partitions. One pass over the table's files, however many partitions.
pub fn files_by_partition(
    table: &DeltaTable,
    in_scope: &HashSet<String>,
) -> Result<Vec<PartitionFiles>> {
    let mut groups: std::collections::BTreeMap<Vec<(String, Option<String>)>, PartitionFiles> =
        Default::default();
    for file in table.snapshot()?.log_data().iter() {
        let path = file.path();
        if in_scope.contains(path.as_ref()) {
            let group = groups
                .entry(partition_key(&file.partition_values_map()))
                .or_default();
            group.paths.push(path.to_string());
            group.bytes += file.size().max(0) as u64;
            group.rows += file.num_records().unwrap_or(0) as u64;
        }
    }
    Ok(groups.into_values().collect())
}

/// A file's partition values in a canonical order: equal partitions give equal keys (the map
/// delta-rs returns iterates in no fixed order).
pub fn partition_key(
    values: &std::collections::HashMap<String, Option<String>>,
) -> Vec<(String, Option<String>)> {
    let mut key: Vec<(String, Option<String>)> =
        values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    key.sort();
    key
}

/// Writes `rows` into new data files of `table` of about `target_size` each, cut in the order the
/// rows come (so a sorted stream gives files with narrow ranges), and returns their Add actions;
/// nothing is committed. `estimate` is the (bytes, rows) of the data being replaced, corrected by
/// the files written here as they complete.
pub async fn write_ordered_files(
    table: DeltaTable,
    storage: StorageOptions,
    mut rows: SendableRecordBatchStream,
    estimate: (u64, u64),
    target_size: NonZeroU64,
) -> Result<Vec<Add>> {
    let schema = super::table_arrow_schema(&table)?;
    // A column-mapped table's files name their columns physically.
    let layout = PhysicalLayout::of(&table)?;
    let mut sizing = FileSizing::new(target_size, estimate.0, estimate.1);
    let in_flight_limit = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut in_flight: VecDeque<FileTask> = VecDeque::new();
    let mut current: Option<OpenFile> = None;
    let mut adds = Vec::new();
    while let Some(batch) = rows.next().await {
        let mut batch = conform(&schema, batch?)?;
        if let Some(layout) = &layout {
            batch = layout.to_physical(&batch)?;
        }
        let mut offset = 0;
        while offset < batch.num_rows() {
            let file = match current.as_mut() {
                Some(file) => file,
                None => {
                    while in_flight.len() >= in_flight_limit {
                        let done = in_flight.pop_front().expect("not empty");
                        adds.extend(sizing.learn(done.finish().await?));
                    }
                    current.insert(OpenFile::start(
                        &table,
                        layout.as_ref(),
                        &storage,
                        target_size,
                    )?)
                }
            };
            let room = sizing.rows_per_file().saturating_sub(file.rows).max(1);
            let len = room.min(batch.num_rows() - offset);
            if !file.send(batch.slice(offset, len)).await {
                let stopped = current.take().expect("open").close();
                return Err(stopped.finish().await.err().unwrap_or_else(|| {
                    Error::internal("a file writer stopped before its rows were written")
                }));
            }
            offset += len;
            if file.rows >= sizing.rows_per_file() {
                in_flight.push_back(current.take().expect("open").close());
            }
        }
    }
    if let Some(file) = current.take() {
        in_flight.push_back(file.close());
    }
    for task in in_flight {
        adds.extend(task.finish().await?.adds);
    }
    Ok(adds)
}

/// One OPTIMIZE commit that removes the files `in_scope` and adds `adds`, all with
/// `dataChange = false`, at the version `table` was read at (a concurrent change to a file in
/// scope is a conflict, 40001); returns the table at the new version.
pub async fn commit_rewrite(
    table: DeltaTable,
    in_scope: &HashSet<String>,
    adds: Vec<Add>,
    predicate: Option<String>,
    target_size: NonZeroU64,
    zorder_by: &[String],
) -> Result<DeltaTable> {
    let snapshot = table.snapshot()?;
    let mut actions: Vec<Action> = snapshot
        .log_data()
        .iter()
        .filter(|file| in_scope.contains(file.path().as_ref()))
        .map(|file| Action::Remove(file.remove_action(false)))
        .collect();
    actions.extend(adds.into_iter().map(|mut add| {
        add.data_change = false;
        Action::Add(add)
    }));
    let operation = DeltaOperation::Optimize {
        predicate,
        target_size: target_size.get() as i64,
    };
    let mut commit = CommitBuilder::default().with_actions(actions);
    if !zorder_by.is_empty() {
        commit = commit.with_app_metadata(std::collections::HashMap::from([(
            "zOrderBy".to_string(),
            serde_json::json!(zorder_by),
        )]));
    }
    // A table whose features delta-rs refuses commits through a copy without them.
    let operable = super::operable(&table)?;
    commit
        .build(Some(operable.snapshot()?), table.log_store(), operation)
        .await?;
    let mut table = table;
    table.update_state().await?;
    Ok(table)
}

/// A batch in the table's column order and types (a sort may reorder or widen columns).
fn conform(schema: &SchemaRef, batch: RecordBatch) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| {
            let column = batch
                .column_by_name(field.name())
                .ok_or_else(|| Error::internal(format!("rewrite lost column {}", field.name())))?;
            Ok(if column.data_type() == field.data_type() {
                column.clone()
            } else {
                cast(column, field.data_type())?
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// How many rows go into one file, from the bytes per row seen so far.
struct FileSizing {
    target: NonZeroU64,
    bytes: u64,
    rows: u64,
}

impl FileSizing {
    fn new(target: NonZeroU64, bytes: u64, rows: u64) -> Self {
        Self {
            target,
            bytes,
            rows,
        }
    }

    /// Rows that make a file of about the target size (at least 1024, so a wrong estimate
    /// never produces thousands of tiny files).
    fn rows_per_file(&self) -> usize {
        if self.rows == 0 || self.bytes == 0 {
            return usize::MAX;
        }
        let bytes_per_row = self.bytes as f64 / self.rows as f64;
        ((self.target.get() as f64 / bytes_per_row) as usize).max(1024)
    }

    /// Takes a written file's real size into the estimate (the first written file replaces the
    /// estimate from the old files, which may have been encoded differently).
    fn learn(&mut self, written: Written) -> Vec<Add> {
        let bytes: u64 = written.adds.iter().map(|a| a.size.max(0) as u64).sum();
        if written.rows > 0 && bytes > 0 {
            self.bytes = bytes;
            self.rows = written.rows;
        }
        written.adds
    }
}

/// What one file task wrote: its Add actions (one per partition its rows fell in) and rows.
struct Written {
    adds: Vec<Add>,
    rows: u64,
}

/// A file whose rows are still arriving; its task encodes them as they come.
struct OpenFile {
    sender: mpsc::Sender<RecordBatch>,
    task: JoinHandle<Result<Written>>,
    rows: usize,
}

impl OpenFile {
    /// A file task; the writer itself also rolls to a new file at twice the target size, a
    /// bound for when the rows-per-file estimate is far off (files without row counts).
    fn start(
        table: &DeltaTable,
        layout: Option<&PhysicalLayout>,
        storage: &StorageOptions,
        target: NonZeroU64,
    ) -> Result<Self> {
        let writer = match layout {
            None => RecordBatchWriter::for_table(table)?,
            // `for_table` refuses column-mapped tables; given the physical schema it writes
            // what such a table's files hold.
            Some(layout) => RecordBatchWriter::try_new(
                table.table_url().as_str(),
                layout.schema.clone(),
                Some(layout.partition_columns.clone()),
                Some(storage.to_map()),
            )?,
        };
        let mut writer = writer.with_target_file_size(target.get() * 2);
        let (sender, mut receiver) = mpsc::channel::<RecordBatch>(QUEUED_BATCHES_PER_FILE);
        let task = tokio::spawn(async move {
            let mut rows = 0u64;
            while let Some(batch) = receiver.recv().await {
                rows += batch.num_rows() as u64;
                writer.write(batch).await?;
            }
            Ok(Written {
                adds: writer.flush().await?,
                rows,
            })
        });
        Ok(Self {
            sender,
            task,
            rows: 0,
        })
    }

    /// Hands rows to the file's task; false when the task has stopped (its error is what
    /// `finish` reports).
    async fn send(&mut self, batch: RecordBatch) -> bool {
        self.rows += batch.num_rows();
        self.sender.send(batch).await.is_ok()
    }

    /// No more rows: the task flushes the file.
    fn close(self) -> FileTask {
        drop(self.sender);
        FileTask(self.task)
    }
}

/// A file whose rows have all been handed over, still being encoded or uploaded.
struct FileTask(JoinHandle<Result<Written>>);

impl FileTask {
    async fn finish(self) -> Result<Written> {
        self.0
            .await
            .map_err(|e| Error::internal(format!("a file writer failed: {e}")))?
    }
}
