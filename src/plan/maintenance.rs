//! Delta table maintenance and metadata statements: DESCRIBE HISTORY, DESCRIBE DETAIL, RESTORE,
//! VACUUM. Each answers with rows shaped like Databricks' so runbooks carry over.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use sqlparser::ast::ObjectName;

use super::timetravel::{evaluate_timestamp, evaluate_version, no_such_version};
use super::{PlanContext, resolve_table};
use crate::delta;
use crate::dialect::TimeTravel;
use crate::error::{Error, ErrorKind, Result};
use crate::output::{Notice, QueryOutput};

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
    Ok(QueryOutput::from_batch(
        delta::history_batch(&table, limit).await?,
        "SELECT",
    ))
}

/// `DESCRIBE DETAIL t`: format, location, files, size, partitioning, properties, protocol.
pub async fn describe_detail(cx: &mut PlanContext<'_>, table: &ObjectName) -> Result<QueryOutput> {
    let table_ref = resolve_table(table, cx.default_schema)?;
    let table = cx.catalog.load(&table_ref).await?;
    Ok(QueryOutput::from_batch(
        delta::detail_batch(&table)?,
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
    let (_turn, table) = cx.load_for_rewrite(&table_ref).await?;
    let latest = table.version().unwrap_or_default();
    let builder = crate::delta::operable(&table)?.restore();
    let builder = match to {
        TimeTravel::Version(expr) => {
            let v = evaluate_version(cx, expr).await?;
            if v < 0 || v as u64 > latest {
                return Err(no_such_version(&table_ref, &v.to_string(), latest));
            }
            if v as u64 == latest {
                // Already there: nothing to commit (delta-rs refuses), as Databricks reports.
                cx.notices.push(crate::output::Notice::note(
                    "00000",
                    format!("{table_ref} is already at version {v}; nothing restored"),
                ));
                return restore_result(v, 0, 0);
            }
            builder.with_version_to_restore(v as _)
        }
        TimeTravel::Timestamp(expr) => {
            builder.with_datetime_to_restore(evaluate_timestamp(cx, expr).await?)
        }
    };
    let (restored, metrics) = builder.await?;
    restore_result(
        restored.version().unwrap_or_default() as i64,
        metrics.num_removed_file as i64,
        metrics.num_restored_file as i64,
    )
}

/// RESTORE's one row: the table's version after it, files removed, files restored.
fn restore_result(version: i64, removed: i64, restored: i64) -> Result<QueryOutput> {
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![version])),
        Arc::new(Int64Array::from(vec![removed])),
        Arc::new(Int64Array::from(vec![restored])),
    ];
    Ok(QueryOutput::from_batch(
        RecordBatch::try_new(restore_schema(), columns)?,
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
    // A table with identity columns through a copy of its snapshot (see `delta::operable`).
    let table = crate::delta::operable(&table)?;
    let table_root = table.table_url().clone();
    // Full, as Databricks' VACUUM: files no version references are removed too, including what an
    // interrupted write left behind (delta-rs's default, lite, only removes files the log removed).
    let mut builder = table
        .vacuum()
        .with_mode(deltalake::operations::vacuum::VacuumMode::Full)
        .with_dry_run(dry_run)
        .with_enforce_retention_duration(enforce_retention)
        // The checkpoint is the upkeep's after the statement, as for every write.
        .with_commit_properties(crate::delta::quiet_commit());
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
