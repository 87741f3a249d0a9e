//! Delta table maintenance and metadata statements: DESCRIBE HISTORY, DESCRIBE DETAIL, RESTORE,
//! VACUUM. Each answers with rows shaped like Databricks' so runbooks carry over.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use futures::TryStreamExt;
use sqlparser::ast::ObjectName;

use super::timetravel::{evaluate_timestamp, evaluate_version};
use super::{PlanContext, resolve_table};
use crate::dialect::TimeTravel;
use crate::error::{Error, ErrorKind, Result};
use crate::session::{Notice, QueryOutput};

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

/// Columns of RESTORE.
pub fn restore_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("version", DataType::Int64, false),
        Field::new("num_removed_files", DataType::Int64, false),
        Field::new("num_restored_files", DataType::Int64, false),
    ]))
}

/// Columns of VACUUM.
pub fn vacuum_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("path", DataType::Utf8, false)]))
}

/// `DESCRIBE HISTORY t [LIMIT n]`: one row per commit, newest first.
pub async fn describe_history(
    cx: &mut PlanContext<'_>,
    table: &ObjectName,
    limit: Option<u64>,
) -> Result<QueryOutput> {
    let table_ref = resolve_table(table, cx.default_schema)?;
    let table = cx.catalog.load(&table_ref).await?;
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
    Ok(QueryOutput::from_batch(
        RecordBatch::try_new(schema, columns)?,
        "SELECT",
    ))
}

/// `DESCRIBE DETAIL t`: format, location, files, size, partitioning, properties, protocol.
pub async fn describe_detail(cx: &mut PlanContext<'_>, table: &ObjectName) -> Result<QueryOutput> {
    let table_ref = resolve_table(table, cx.default_schema)?;
    let table = cx.catalog.load(&table_ref).await?;
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
    Ok(QueryOutput::from_batch(
        RecordBatch::try_new(schema, columns)?,
        "SELECT",
    ))
}

/// `RESTORE [TABLE] t TO VERSION AS OF n | TIMESTAMP AS OF ts`: a new version equal to the old one.
pub async fn restore(
    cx: &mut PlanContext<'_>,
    table: &ObjectName,
    to: &TimeTravel,
) -> Result<QueryOutput> {
    let table_ref = resolve_table(table, cx.default_schema)?;
    let table = cx.catalog.load(&table_ref).await?;
    let latest = table.version().unwrap_or_default();
    let builder = table.restore();
    let builder = match to {
        TimeTravel::Version(expr) => {
            let v = evaluate_version(cx, expr).await?;
            if v < 0 || v as u64 > latest as u64 {
                return Err(Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("table {table_ref} has no version {v}: its versions are 0 to {latest}"),
                ));
            }
            builder.with_version_to_restore(v as _)
        }
        TimeTravel::Timestamp(expr) => {
            builder.with_datetime_to_restore(evaluate_timestamp(cx, expr).await?)
        }
    };
    let (restored, metrics) = builder.await?;
    let schema = restore_schema();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![
            restored.version().unwrap_or_default() as i64,
        ])),
        Arc::new(Int64Array::from(vec![metrics.num_removed_file as i64])),
        Arc::new(Int64Array::from(vec![metrics.num_restored_file as i64])),
    ];
    Ok(QueryOutput::from_batch(
        RecordBatch::try_new(schema, columns)?,
        "SELECT",
    ))
}

/// The session setting that allows VACUUM below the table's retention (as Databricks'
/// `spark.databricks.delta.retentionDurationCheck.enabled`).
pub const RETENTION_CHECK_SETTING: &str = "deltagres.retention_duration_check";

/// `VACUUM t [RETAIN n HOURS] [DRY RUN]`: deletes (or lists) files no version within the retention
/// window references.
pub async fn vacuum(
    cx: &mut PlanContext<'_>,
    table: &ObjectName,
    retain_hours: Option<f64>,
    dry_run: bool,
    enforce_retention: bool,
) -> Result<QueryOutput> {
    let table_ref = resolve_table(table, cx.default_schema)?;
    let table = cx.catalog.load(&table_ref).await?;
    let table_root = table.table_url().clone();
    let mut builder = table
        .vacuum()
        .with_dry_run(dry_run)
        .with_enforce_retention_duration(enforce_retention);
    if let Some(hours) = retain_hours {
        if hours < 0.0 {
            return Err(Error::new(
                ErrorKind::InvalidParameterValue,
                "RETAIN must not be negative",
            ));
        }
        builder = builder
            .with_retention_period(chrono::Duration::milliseconds((hours * 3_600_000.0) as i64));
    }
    let (_, metrics) = builder.await.map_err(|e| {
        let err = Error::from(e);
        if err.message.contains("retention") {
            Error::new(ErrorKind::InvalidParameterValue, err.message).with_hint(format!(
                "to vacuum below the table's retention, SET {RETENTION_CHECK_SETTING} = off first"
            ))
        } else {
            err
        }
    })?;
    let schema = vacuum_schema();
    // delta-rs reports some files relative to the table root and some as absolute paths.
    let root = table_root.to_file_path().ok();
    let mut files: Vec<String> = metrics
        .files_deleted
        .into_iter()
        .map(|f| match &root {
            Some(root) => std::path::Path::new(&f)
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().to_string())
                .unwrap_or(f),
            None => f,
        })
        .collect();
    files.sort();
    files.dedup();
    if !dry_run {
        cx.notices.push(Notice::note(
            "00000",
            format!("deleted {} files", files.len()),
        ));
    }
    let paths = StringArray::from(files);
    Ok(QueryOutput::from_batch(
        RecordBatch::try_new(schema, vec![Arc::new(paths)])?,
        "SELECT",
    ))
}
