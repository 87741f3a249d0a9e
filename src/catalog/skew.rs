//! `deltagres_skew('schema.table', 'column' [, k])`: the hottest values of a column.
//!
//! Users need the hot keys to write a SKEW hint. The report reads them from the Delta log when
//! every file holds a single value of the column (partition columns, well-clustered tables);
//! otherwise it counts a scan of the column, the whole table up to [`SAMPLE_ROWS`] rows and a
//! sample of that many rows beyond (its counts are then scaled to the table's row count).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::datasource::MemTable;
use datafusion::execution::SessionState;
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;

use super::files::block_on;
use super::{DeltaCatalog, TableRef};
use crate::error::{Error, ErrorKind};

/// Rows counted exactly before the report switches to a sample.
pub const SAMPLE_ROWS: u64 = 5_000_000;
/// Values reported when `k` is not given.
const DEFAULT_TOP: i64 = 10;

/// The table function.
#[derive(Debug)]
pub struct SkewReport {
    catalog: Arc<DeltaCatalog>,
}

impl SkewReport {
    /// The report over tables of `catalog`.
    pub fn new(catalog: Arc<DeltaCatalog>) -> Self {
        Self { catalog }
    }
}

/// Columns of the report.
pub fn skew_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("value", DataType::Utf8, true),
        Field::new("row_count", DataType::Int64, false),
        Field::new("share", DataType::Float64, false),
        Field::new("source", DataType::Utf8, false),
    ]))
}

fn text_arg(e: &Expr) -> Option<String> {
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(s))
            | ScalarValue::Utf8View(Some(s))
            | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.clone()),
        _ => None,
    }
}

fn plan_error(e: Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

impl TableFunctionImpl for SkewReport {
    fn call_with_args(&self, args: TableFunctionArgs) -> DfResult<Arc<dyn TableProvider>> {
        let usage = || {
            plan_error(Error::new(
                ErrorKind::InvalidParameterValue,
                "deltagres_skew takes ('schema.table', 'column' [, top_k])",
            ))
        };
        let (table, column, k) = match args.exprs() {
            [t, c] => (text_arg(t), text_arg(c), DEFAULT_TOP),
            [t, c, Expr::Literal(k, _)] => (
                text_arg(t),
                text_arg(c),
                k.cast_to(&DataType::Int64)
                    .ok()
                    .and_then(|k| match k {
                        ScalarValue::Int64(Some(k)) if k > 0 => Some(k),
                        _ => None,
                    })
                    .ok_or_else(usage)?,
            ),
            _ => return Err(usage()),
        };
        let (Some(table), Some(column)) = (table, column) else {
            return Err(usage());
        };
        let table_ref = match table.split_once('.') {
            Some((schema, table)) => TableRef {
                schema: schema.to_ascii_lowercase(),
                table: table.to_ascii_lowercase(),
            },
            None => TableRef {
                schema: super::DEFAULT_SCHEMA.to_string(),
                table: table.to_ascii_lowercase(),
            },
        };
        let column = column.to_ascii_lowercase();
        let state = args
            .session()
            .as_any()
            .downcast_ref::<SessionState>()
            .cloned()
            .ok_or_else(|| {
                DataFusionError::Internal("deltagres_skew needs a SessionState".into())
            })?;
        let batch = block_on(report(&self.catalog, state, &table_ref, &column, k))?;
        Ok(Arc::new(MemTable::try_new(
            skew_schema(),
            vec![vec![batch]],
        )?))
    }
}

async fn report(
    catalog: &DeltaCatalog,
    state: SessionState,
    table_ref: &TableRef,
    column: &str,
    k: i64,
) -> DfResult<RecordBatch> {
    let table = catalog.load(table_ref).await.map_err(plan_error)?;
    let has_column = table
        .snapshot()
        .map(|s| s.schema().fields().any(|f| f.name() == column))
        .unwrap_or(false);
    if !has_column {
        return Err(plan_error(Error::new(
            ErrorKind::UndefinedColumn,
            format!("column \"{column}\" of table {table_ref} does not exist"),
        )));
    }
    let total_rows = crate::delta::row_count(&table);
    let (mut counts, source, scale) = match crate::delta::single_value_counts(&table, column) {
        Some(counts) => (counts, "stats", 1.0),
        None => {
            let sampled = total_rows.is_some_and(|n| n > SAMPLE_ROWS);
            let ctx = SessionContext::new_with_state(state);
            let quoted = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
            let from = format!(
                "{}.{}.{}",
                quoted(super::CATALOG_NAME),
                quoted(&table_ref.schema),
                quoted(&table_ref.table)
            );
            let source_rows = if sampled {
                format!(
                    "(SELECT {c} FROM {from} LIMIT {SAMPLE_ROWS})",
                    c = quoted(column)
                )
            } else {
                from
            };
            let sql = format!(
                "SELECT CAST({c} AS VARCHAR), count(*) FROM {source_rows} s GROUP BY 1 ORDER BY 2 DESC LIMIT {k}",
                c = quoted(column)
            );
            let batches = ctx.sql(&sql).await?.collect().await?;
            let mut counts = Vec::new();
            for b in &batches {
                for row in 0..b.num_rows() {
                    let value = ScalarValue::try_from_array(b.column(0), row)?;
                    let n = ScalarValue::try_from_array(b.column(1), row)?;
                    let n = match n {
                        ScalarValue::Int64(Some(n)) => n as u64,
                        _ => 0,
                    };
                    let value = match value {
                        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => s,
                        _ => "NULL".to_string(),
                    };
                    counts.push((value, n));
                }
            }
            let scale = match (sampled, total_rows) {
                (true, Some(total)) => total as f64 / SAMPLE_ROWS as f64,
                _ => 1.0,
            };
            (counts, if sampled { "sample" } else { "scan" }, scale)
        }
    };
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(k as usize);
    let total = total_rows
        .map(|n| n as f64)
        .unwrap_or_else(|| counts.iter().map(|(_, n)| *n as f64).sum::<f64>() * scale)
        .max(1.0);
    let values: Vec<Option<String>> = counts
        .iter()
        .map(|(v, _)| (v != "NULL").then(|| v.clone()))
        .collect();
    let rows: Vec<i64> = counts
        .iter()
        .map(|(_, n)| (*n as f64 * scale).round() as i64)
        .collect();
    let shares: Vec<f64> = rows.iter().map(|n| *n as f64 / total).collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(values)),
        Arc::new(Int64Array::from(rows)),
        Arc::new(Float64Array::from(shares)),
        Arc::new(StringArray::from(vec![source; counts.len()])),
    ];
    Ok(RecordBatch::try_new(skew_schema(), columns)?)
}
