//! Rewriting a table's files in a given row order as one OPTIMIZE commit: the rows stream from a
//! sorted query into new files of the target size, then one commit removes the old files and adds
//! the new ones, both marked `dataChange = false` (the table's content is unchanged, so streaming
//! readers skip it), recorded as an OPTIMIZE in the history.

use std::num::NonZeroU64;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::cast;
use datafusion::physical_plan::SendableRecordBatchStream;
use deltalake::DeltaTable;
use deltalake::kernel::Action;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::protocol::DeltaOperation;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use futures::StreamExt;

use crate::error::{Error, Result};

/// Replaces the files `in_scope` by the rows of `rows`, written in their order.
pub async fn rewrite_files(
    table: DeltaTable,
    mut rows: SendableRecordBatchStream,
    in_scope: Vec<String>,
    predicate: Option<String>,
    target_size: NonZeroU64,
) -> Result<DeltaTable> {
    if in_scope.is_empty() {
        return Ok(table);
    }
    let snapshot = table.snapshot()?;
    let schema = super::table_arrow_schema(&table)?;
    let mut writer = RecordBatchWriter::for_table(&table)?;
    let mut adds = Vec::new();
    let (mut written_bytes, mut written_rows, mut rows_in_file) = (0usize, 0usize, 0usize);
    while let Some(batch) = rows.next().await {
        let batch = batch?;
        let columns = schema
            .fields()
            .iter()
            .map(|field| {
                let column = batch.column_by_name(field.name()).ok_or_else(|| {
                    Error::internal(format!("rewrite lost column {}", field.name()))
                })?;
                Ok(if column.data_type() == field.data_type() {
                    column.clone()
                } else {
                    cast(column, field.data_type())?
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        // Write in slices small enough to close files near the target size: once a file has been
        // written, its bytes per row tell how many rows the next one holds.
        let rows_per_file = if written_rows > 0 {
            let bytes_per_row = written_bytes as f64 / written_rows as f64;
            ((target_size.get() as f64 / bytes_per_row) as usize).max(1024)
        } else {
            batch.num_rows().max(1)
        };
        let mut offset = 0;
        while offset < batch.num_rows() {
            let room = rows_per_file.saturating_sub(rows_in_file).max(1);
            let len = room.min(batch.num_rows() - offset);
            writer.write(batch.slice(offset, len)).await?;
            offset += len;
            rows_in_file += len;
            let full = writer.buffer_len() as u64 >= target_size.get()
                || (written_rows > 0 && rows_in_file >= rows_per_file);
            if full {
                written_bytes += writer.buffer_len();
                written_rows += rows_in_file;
                rows_in_file = 0;
                adds.extend(writer.flush().await?);
            }
        }
    }
    adds.extend(writer.flush().await?);

    let in_scope: std::collections::HashSet<String> = in_scope.into_iter().collect();
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
    CommitBuilder::default()
        .with_actions(actions)
        .build(Some(snapshot), table.log_store(), operation)
        .await?;
    let mut table = table;
    table.update_state().await?;
    Ok(table)
}
