//! Delta table metadata as Arrow batches: the commit history, the table detail and the live files
//! with their statistics. Served both by statements (DESCRIBE HISTORY / DETAIL) and as the
//! `"t$history"`, `"t$detail"`, `"t$files"` tables BI tools can query.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use deltalake::DeltaTable;
use futures::TryStreamExt;

use crate::error::Result;

fn utc_micros() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Columns of DESCRIBE HISTORY.
pub fn history_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("version", DataType::Int64, false),
        Field::new("timestamp", utc_micros(), true),
        Field::new("operation", DataType::Utf8, true),
        Field::new("operationParameters", DataType::Utf8, true),
        Field::new("readVersion", DataType::Int64, true),
        Field::new("isolationLevel", DataType::Utf8, true),
        Field::new("isBlindAppend", DataType::Boolean, true),
        Field::new("operationMetrics", DataType::Utf8, true),
        Field::new("engineInfo", DataType::Utf8, true),
    ]))
}

/// Columns of DESCRIBE DETAIL.
pub fn detail_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("format", DataType::Utf8, false),
        Field::new("id", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, true),
        Field::new("description", DataType::Utf8, true),
        Field::new("location", DataType::Utf8, false),
        Field::new("createdAt", utc_micros(), true),
        Field::new("lastModified", utc_micros(), true),
        Field::new("version", DataType::Int64, false),
        Field::new(
            "partitionColumns",
            DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
            false,
        ),
        Field::new("numFiles", DataType::Int64, false),
        Field::new("sizeInBytes", DataType::Int64, false),
        Field::new("properties", DataType::Utf8, false),
        Field::new("minReaderVersion", DataType::Int64, false),
        Field::new("minWriterVersion", DataType::Int64, false),
    ]))
}

/// The table's commits, newest first (DESCRIBE HISTORY, `"t$history"`).
pub async fn history_batch(table: &DeltaTable, limit: Option<u64>) -> Result<RecordBatch> {
    let latest = table.version().unwrap_or_default() as i64;
    let commits: Vec<_> = table
        .history(limit.map(|n| n as usize))
        .try_collect()
        .await?;
    let n = commits.len();
    let mut version = Vec::with_capacity(n);
    let mut timestamp = Vec::with_capacity(n);
    let mut operation = Vec::with_capacity(n);
    let mut parameters = Vec::with_capacity(n);
    let mut read_version = Vec::with_capacity(n);
    let mut isolation = Vec::with_capacity(n);
    let mut blind_append = Vec::with_capacity(n);
    let mut metrics = Vec::with_capacity(n);
    let mut engine = Vec::with_capacity(n);
    for (i, c) in commits.iter().enumerate() {
        version.push(latest - i as i64);
        timestamp.push(c.timestamp.map(|ms| ms * 1000));
        operation.push(c.operation.clone());
        parameters.push(
            c.operation_parameters
                .as_ref()
                .map(|p| serde_json::to_string(p).unwrap_or_default()),
        );
        read_version.push(c.read_version.map(|v| v as i64));
        isolation.push(c.isolation_level.as_ref().map(|l| format!("{l:?}")));
        blind_append.push(c.is_blind_append);
        metrics.push(c.info.get("operationMetrics").map(|m| m.to_string()));
        engine.push(c.engine_info.clone());
    }
    let schema = history_schema();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(version)),
        Arc::new(TimestampMicrosecondArray::from(timestamp).with_timezone("UTC")),
        Arc::new(StringArray::from(operation)),
        Arc::new(StringArray::from(parameters)),
        Arc::new(Int64Array::from(read_version)),
        Arc::new(StringArray::from(isolation)),
        Arc::new(BooleanArray::from(blind_append)),
        Arc::new(StringArray::from(metrics)),
        Arc::new(StringArray::from(engine)),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// One row of table facts (DESCRIBE DETAIL, `"t$detail"`).
pub fn detail_batch(table: &DeltaTable) -> Result<RecordBatch> {
    let snapshot = table.snapshot()?;
    let metadata = snapshot.metadata();
    let protocol = snapshot.protocol();
    let files = snapshot.log_data();
    let num_files = files.num_files() as i64;
    let size: i64 = files.iter().map(|f| f.size()).sum();
    let version = table.version().unwrap_or_default();
    let last_modified = snapshot.version_timestamp(version).map(|ms| ms * 1000);
    let properties = serde_json::to_string(metadata.configuration()).unwrap_or_default();
    let mut partitions = ListBuilder::new(StringBuilder::new());
    for c in metadata.partition_columns() {
        partitions.values().append_value(c);
    }
    partitions.append(true);
    let schema = detail_schema();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec!["delta"])),
        Arc::new(StringArray::from(vec![metadata.id().to_string()])),
        Arc::new(StringArray::from(vec![metadata.name().map(str::to_string)])),
        Arc::new(StringArray::from(vec![
            metadata.description().map(str::to_string),
        ])),
        Arc::new(StringArray::from(vec![table.table_url().to_string()])),
        Arc::new(
            TimestampMicrosecondArray::from(vec![metadata.created_time().map(|ms| ms * 1000)])
                .with_timezone("UTC"),
        ),
        Arc::new(TimestampMicrosecondArray::from(vec![last_modified]).with_timezone("UTC")),
        Arc::new(Int64Array::from(vec![version as i64])),
        Arc::new(partitions.finish()),
        Arc::new(Int64Array::from(vec![num_files])),
        Arc::new(Int64Array::from(vec![size])),
        Arc::new(StringArray::from(vec![properties])),
        Arc::new(Int64Array::from(vec![protocol.min_reader_version() as i64])),
        Arc::new(Int64Array::from(vec![protocol.min_writer_version() as i64])),
    ];
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Columns of `"t$files"`.
pub fn files_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("size_bytes", DataType::Int64, false),
        Field::new("modification_time", utc_micros(), false),
        Field::new("partition_values", DataType::Utf8, false),
        Field::new("num_records", DataType::Int64, true),
        Field::new("min_values", DataType::Utf8, true),
        Field::new("max_values", DataType::Utf8, true),
        Field::new("null_count", DataType::Utf8, true),
    ]))
}

/// The live files of the current version with their statistics (`"t$files"`): what file
/// skipping decides on.
pub fn files_batch(table: &DeltaTable) -> Result<RecordBatch> {
    let snapshot = table.snapshot()?;
    let mut path = Vec::new();
    let mut size = Vec::new();
    let mut modified = Vec::new();
    let mut partitions = Vec::new();
    let mut records = Vec::new();
    let mut min_values = Vec::new();
    let mut max_values = Vec::new();
    let mut null_count = Vec::new();
    for file in snapshot.log_data().iter() {
        path.push(file.path().to_string());
        size.push(file.size());
        modified.push(file.modification_time() * 1000);
        partitions.push(serde_json::to_string(&file.partition_values_map()).unwrap_or_default());
        records.push(file.num_records().map(|n| n as i64));
        let stats: Option<serde_json::Value> =
            file.stats().and_then(|s| serde_json::from_str(&s).ok());
        let part = |key: &str| {
            stats
                .as_ref()
                .and_then(|s| s.get(key))
                .map(|v| v.to_string())
        };
        min_values.push(part("minValues"));
        max_values.push(part("maxValues"));
        null_count.push(part("nullCount"));
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(path)),
        Arc::new(Int64Array::from(size)),
        Arc::new(TimestampMicrosecondArray::from(modified).with_timezone("UTC")),
        Arc::new(StringArray::from(partitions)),
        Arc::new(Int64Array::from(records)),
        Arc::new(StringArray::from(min_values)),
        Arc::new(StringArray::from(max_values)),
        Arc::new(StringArray::from(null_count)),
    ];
    Ok(RecordBatch::try_new(files_schema(), columns)?)
}

/// A number from the latest commit's `operationMetrics`, under the first of `names` present
/// (writers spell some metrics differently).
pub async fn last_commit_metric(table: &DeltaTable, names: &[&str]) -> Option<i64> {
    // The loaded version's own commit file: one read, where `history(1)` lists the whole log.
    let name = format!("{:020}.json", table.version()?);
    let bytes = super::cached::read_log_file(table, &name).await?;
    let metrics = bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .find_map(|action| action.get("commitInfo")?.get("operationMetrics").cloned())?;
    names.iter().find_map(|n| match metrics.get(*n)? {
        serde_json::Value::Number(x) => x.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    })
}

/// The table's row count from the per-file statistics in the Delta log; None when a file has none.
pub fn row_count(table: &DeltaTable) -> Option<u64> {
    let snapshot = table.snapshot().ok()?;
    let mut total = 0u64;
    for file in snapshot.log_data().iter() {
        total += file.num_records()? as u64;
    }
    Some(total)
}

/// Rows per value of `column` read from the Delta log alone, when every live file holds a single
/// value of it (a partition column, or files clustered so that min = max and no nulls); None
/// when some file mixes values, so the answer needs a scan.
pub fn single_value_counts(table: &DeltaTable, column: &str) -> Option<Vec<(String, u64)>> {
    let snapshot = table.snapshot().ok()?;
    let mut counts: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    let partitioned = snapshot
        .metadata()
        .partition_columns()
        .iter()
        .any(|c| c == column);
    // Partition values and statistics are keyed by the name in the files.
    let physical = super::physical_name(table, column);
    let column = physical.as_str();
    for file in snapshot.log_data().iter() {
        let rows = file.num_records()? as u64;
        let value = if partitioned {
            file.partition_values_map()
                .get(column)
                .cloned()
                .flatten()
                .unwrap_or_else(|| "NULL".to_string())
        } else {
            let stats: serde_json::Value = serde_json::from_str(&file.stats()?).ok()?;
            let min = stats.get("minValues")?.get(column)?;
            let max = stats.get("maxValues")?.get(column)?;
            let nulls = stats
                .get("nullCount")
                .and_then(|n| n.get(column))
                .and_then(|n| n.as_u64())
                .unwrap_or(0);
            if min != max || nulls > 0 {
                return None;
            }
            match min {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }
        };
        *counts.entry(value).or_default() += rows;
    }
    Some(counts.into_iter().collect())
}
