//! `OPTIMIZE t [WHERE partition_predicate] [ZORDER BY (c1, c2, ...)]`.
//!
//! Without ZORDER BY it is delta-rs's bin-packing compaction. With ZORDER BY the rows in scope are
//! rewritten in the order of a range-interleaved clustering key (see `delta::ZOrderKey`) into files
//! of the target size, in one commit, so each file covers a narrow range of every z-order column.

use std::collections::HashSet;
use std::num::NonZeroU64;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::operations::optimize::OptimizeType;
use deltalake::{DeltaTable, FilterLiteral, FilterOp, FilterValue};
use futures::StreamExt;
use sqlparser::ast::{BinaryOperator, Expr, ObjectName, Value};

use super::names::{normalize_ident, quote_identifiers};
use super::{PlanContext, resolve_table};
use crate::delta::MAX_ZORDER_COLUMNS;
use crate::error::{Error, ErrorKind, Result};
use crate::output::{Notice, QueryOutput};

/// The session setting for the size of files OPTIMIZE writes (else the table's
/// `delta.targetFileSize`, else 128 MiB).
pub const TARGET_FILE_SIZE_SETTING: &str = "deltagres.optimize.target_file_size";

/// Columns of the OPTIMIZE result row.
pub fn optimize_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("path", DataType::Utf8, false),
        Field::new("num_files_added", DataType::Int64, false),
        Field::new("num_files_removed", DataType::Int64, false),
        Field::new("num_files_before", DataType::Int64, false),
        Field::new("num_files_after", DataType::Int64, false),
        Field::new("size_in_bytes_after", DataType::Int64, false),
        Field::new("zorder_by", DataType::Utf8, true),
    ]))
}

/// Runs OPTIMIZE.
pub async fn optimize(
    cx: &mut PlanContext<'_>,
    name: &ObjectName,
    predicate: Option<Expr>,
    zorder: Option<Vec<Expr>>,
) -> Result<QueryOutput> {
    let table_ref = resolve_table(name, cx.default_schema)?;
    let (_turn, table) = cx.load_for_rewrite(&table_ref).await?;
    // A table with identity columns is rewritten through a copy of its snapshot (see
    // `delta::operable`).
    let table = crate::delta::operable(&table)?;
    let snapshot = table.snapshot()?;
    let partition_columns: Vec<String> = snapshot.metadata().partition_columns().to_vec();
    let columns: Vec<String> = snapshot
        .schema()
        .fields()
        .map(|f| f.name().to_string())
        .collect();
    let (files_before, _) = file_stats(&table);
    let version_before = table.version();
    let paths_before = file_paths(&table);
    let mut filters = match &predicate {
        Some(p) => partition_filters(p, &partition_columns)?,
        None => Vec::new(),
    };
    let arrow_schema = crate::delta::table_arrow_schema(&table)?;
    for (column, _, values) in &mut filters {
        let data_type = arrow_schema.field_with_name(column)?.data_type().clone();
        for value in values.iter_mut() {
            *value = partition_literal(value, &data_type)?;
        }
    }
    let target_size = target_file_size(cx, &table)?;

    let zorder_columns = match zorder {
        Some(exprs) => zorder_columns(&exprs, &columns)?,
        None => Vec::new(),
    };
    let clustering: Vec<String> = zorder_columns
        .iter()
        .filter(|c| !partition_columns.contains(c))
        .cloned()
        .collect();
    if clustering.len() < zorder_columns.len() {
        cx.notices.push(Notice::note(
            "00000",
            "partition columns in ZORDER BY are constant within each file and are left out of the clustering key",
        ));
    }
    cx.notices.push(Notice::note(
        "00000",
        format!("optimizing {table_ref}: {files_before} files before"),
    ));
    let literals: Vec<FilterLiteral<'_>> = filters
        .iter()
        .map(|(column, op, values)| {
            let value = if matches!(op, FilterOp::In | FilterOp::NotIn) {
                FilterValue::Set(values.iter().map(String::as_str).collect())
            } else {
                FilterValue::Scalar(values[0].as_str())
            };
            (column.as_str(), *op, value)
        })
        .collect();
    let optimized = if clustering.is_empty() && crate::delta::maps_columns(&table)? {
        // delta-rs's compaction refuses column-mapped tables; ours rewrites the same files.
        let in_scope: HashSet<String> = files_in_scope(&table, &literals)
            .await?
            .into_iter()
            .collect();
        let where_sql = predicate.as_ref().map(|p| {
            let mut p = p.clone();
            quote_identifiers(&mut p);
            p.to_string()
        });
        let storage = cx.catalog.storage_options();
        let (optimized, metrics) =
            crate::delta::compact_mapped(table, storage, Some(&in_scope), where_sql, target_size)
                .await?;
        tracing::info!(table = %table_ref, ?metrics, "compaction committed");
        optimized
    } else if clustering.is_empty() {
        // The checkpoint is the upkeep's after the statement, as for every write.
        let (optimized, metrics) = table
            .optimize()
            .with_type(OptimizeType::Compact)
            .with_filters(&literals)
            .with_target_size(target_size)
            .with_commit_properties(crate::delta::quiet_commit())
            .await?;
        tracing::info!(table = %table_ref, ?metrics, "compaction committed");
        optimized
    } else {
        let where_sql = predicate.as_ref().map(|p| {
            let mut p = p.clone();
            quote_identifiers(&mut p);
            p.to_string()
        });
        let in_scope = files_in_scope(&table, &literals).await?;
        let scope = RewriteScope {
            where_sql,
            files: in_scope,
            target_size,
        };
        super::zorder_rewrite::zorder_rewrite(cx, table, &clustering, scope).await?
    };
    let (files_after, size_after) = file_stats(&optimized);
    let (added, removed) = if optimized.version() > version_before {
        file_changes(&paths_before, &optimized)
    } else {
        (0, 0)
    };
    cx.notices.push(Notice::note(
        "00000",
        format!(
            "optimized {table_ref}: {files_after} files after ({added} added, {removed} removed)"
        ),
    ));
    let zorder_text = (!zorder_columns.is_empty()).then(|| zorder_columns.join(", "));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(vec![optimized.table_url().to_string()])),
        Arc::new(Int64Array::from(vec![added])),
        Arc::new(Int64Array::from(vec![removed])),
        Arc::new(Int64Array::from(vec![files_before as i64])),
        Arc::new(Int64Array::from(vec![files_after as i64])),
        Arc::new(Int64Array::from(vec![size_after])),
        Arc::new(StringArray::from(vec![zorder_text])),
    ];
    Ok(QueryOutput::from_batch(
        RecordBatch::try_new(optimize_schema(), columns)?,
        "SELECT",
    ))
}

/// The paths of the table's live data files.
fn file_paths(table: &DeltaTable) -> std::collections::HashSet<String> {
    match table.snapshot() {
        Ok(s) => s.log_data().iter().map(|f| f.path().to_string()).collect(),
        Err(_) => Default::default(),
    }
}

/// Files added and removed between `before` and the table now (our z-order commits carry no
/// operation metrics, and compaction's may not either).
fn file_changes(before: &std::collections::HashSet<String>, table: &DeltaTable) -> (i64, i64) {
    let after = file_paths(table);
    (
        after.difference(before).count() as i64,
        before.difference(&after).count() as i64,
    )
}

fn file_stats(table: &DeltaTable) -> (usize, i64) {
    match table.snapshot() {
        Ok(s) => {
            let files = s.log_data();
            (files.num_files(), files.iter().map(|f| f.size()).sum())
        }
        Err(_) => (0, 0),
    }
}

fn target_file_size(cx: &PlanContext<'_>, table: &DeltaTable) -> Result<NonZeroU64> {
    let from_setting = cx.settings.get(TARGET_FILE_SIZE_SETTING).ok();
    let from_table = table.snapshot().ok().and_then(|s| {
        s.metadata()
            .configuration()
            .get("delta.targetFileSize")
            .cloned()
    });
    let bytes = match from_setting.or(from_table) {
        Some(text) => crate::config::parse_byte_size(&text)
            .map_err(|m| {
                Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("invalid target file size: {m}"),
                )
            })?
            .unwrap_or(128 << 20),
        None => 128 << 20,
    };
    NonZeroU64::new(bytes as u64).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidParameterValue,
            "target file size must be positive",
        )
    })
}

fn zorder_columns(exprs: &[Expr], columns: &[String]) -> Result<Vec<String>> {
    if exprs.len() > MAX_ZORDER_COLUMNS {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!("ZORDER BY takes at most {MAX_ZORDER_COLUMNS} columns"),
        ));
    }
    exprs
        .iter()
        .map(|e| {
            let name = match e {
                Expr::Identifier(i) => normalize_ident(i),
                Expr::CompoundIdentifier(parts) => {
                    parts.last().map(normalize_ident).unwrap_or_default()
                }
                other => {
                    return Err(Error::unsupported(format!(
                        "ZORDER BY takes column names, not {other}"
                    )));
                }
            };
            if !columns.contains(&name) {
                return Err(Error::new(
                    ErrorKind::UndefinedColumn,
                    format!("column \"{name}\" does not exist"),
                ));
            }
            Ok(name)
        })
        .collect()
}

/// What a z-order rewrite replaces: the rows matching `where_sql`, stored in `files`, rewritten
/// into files of `target_size`.
pub(super) struct RewriteScope {
    pub where_sql: Option<String>,
    pub files: Vec<String>,
    pub target_size: NonZeroU64,
}

/// The files of the partitions the WHERE selects (all files without WHERE), chosen by delta-rs's
/// typed partition filters: the same comparison its compaction makes (values parsed as the
/// column's type; a NULL partition matches no comparison).
async fn files_in_scope(table: &DeltaTable, filters: &[FilterLiteral<'_>]) -> Result<Vec<String>> {
    let state = table.snapshot()?;
    let predicate = if filters.is_empty() {
        None
    } else {
        Some(Arc::new(deltalake::conjunction_to_kernel_predicate(
            filters,
            state.schema().as_ref(),
        )?))
    };
    let log_store = table.log_store();
    let mut files = state.snapshot().file_views(log_store.as_ref(), predicate);
    let mut paths = Vec::new();
    while let Some(file) = files.next().await {
        paths.push(file?.path().to_string());
    }
    Ok(paths)
}

/// WHERE of OPTIMIZE: a conjunction of comparisons on partition columns, as delta-rs filters.
fn partition_filters(
    predicate: &Expr,
    partition_columns: &[String],
) -> Result<Vec<(String, FilterOp, Vec<String>)>> {
    let mut out = Vec::new();
    collect_filters(predicate, partition_columns, &mut out)?;
    Ok(out)
}

fn collect_filters(
    e: &Expr,
    partition_columns: &[String],
    out: &mut Vec<(String, FilterOp, Vec<String>)>,
) -> Result<()> {
    let column = |c: &Expr| -> Result<String> {
        let name = match c {
            Expr::Identifier(i) => normalize_ident(i),
            Expr::CompoundIdentifier(parts) => {
                parts.last().map(normalize_ident).unwrap_or_default()
            }
            other => return Err(not_partition_predicate(other)),
        };
        if partition_columns.contains(&name) {
            Ok(name)
        } else {
            Err(Error::new(
                ErrorKind::InvalidParameterValue,
                format!(
                    "OPTIMIZE WHERE may only filter on partition columns; \"{name}\" is not one"
                ),
            ))
        }
    };
    match e {
        Expr::Nested(inner) => collect_filters(inner, partition_columns, out),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            collect_filters(left, partition_columns, out)?;
            collect_filters(right, partition_columns, out)
        }
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                BinaryOperator::Eq => FilterOp::Eq,
                BinaryOperator::NotEq => FilterOp::Ne,
                BinaryOperator::Lt => FilterOp::Lt,
                BinaryOperator::LtEq => FilterOp::Le,
                BinaryOperator::Gt => FilterOp::Gt,
                BinaryOperator::GtEq => FilterOp::Ge,
                _ => return Err(not_partition_predicate(e)),
            };
            out.push((column(left)?, op, vec![literal(right)?]));
            Ok(())
        }
        Expr::InList {
            expr,
            list,
            negated,
        } => {
            let values = list.iter().map(literal).collect::<Result<Vec<_>>>()?;
            out.push((
                column(expr)?,
                if *negated {
                    FilterOp::NotIn
                } else {
                    FilterOp::In
                },
                values,
            ));
            Ok(())
        }
        other => Err(not_partition_predicate(other)),
    }
}

fn literal(e: &Expr) -> Result<String> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => Ok(s.clone()),
            Value::Number(n, _) => Ok(n.to_string()),
            Value::Boolean(b) => Ok(b.to_string()),
            other => Err(Error::unsupported(format!(
                "OPTIMIZE WHERE value {other} is not supported"
            ))),
        },
        Expr::TypedString(t) => match &t.value.value {
            Value::SingleQuotedString(s) => Ok(s.clone()),
            other => Ok(other.to_string()),
        },
        Expr::Cast { expr, .. } => literal(expr),
        other => Err(not_partition_predicate(other)),
    }
}

/// A WHERE value as the partition column's type reads it: checked by casting it to that type
/// (22P02 when it is not one), decimals written with the column's scale (`2` -> `2.00`, which is
/// how delta-rs parses a decimal partition value).
fn partition_literal(value: &str, data_type: &DataType) -> Result<String> {
    use datafusion::arrow::compute::{CastOptions, cast_with_options};
    use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
    let text: ArrayRef = Arc::new(StringArray::from(vec![value]));
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    let typed = cast_with_options(&text, data_type, &options).map_err(|_| {
        Error::new(
            ErrorKind::InvalidTextRepresentation,
            format!("invalid input syntax for type {data_type}: \"{value}\""),
        )
    })?;
    if matches!(
        data_type,
        DataType::Decimal128(..) | DataType::Decimal256(..)
    ) {
        let formatter = ArrayFormatter::try_new(typed.as_ref(), &FormatOptions::default())?;
        return Ok(formatter.value(0).to_string());
    }
    Ok(value.to_string())
}

fn not_partition_predicate(e: &Expr) -> Error {
    Error::new(
        ErrorKind::InvalidParameterValue,
        format!(
            "OPTIMIZE WHERE supports comparisons of partition columns with constants (AND, IN); not {e}"
        ),
    )
}
