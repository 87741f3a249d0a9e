//! EXPLAIN as Postgres users read it: one `QUERY PLAN` text column, one row per line.
//!
//! `EXPLAIN` shows the physical plan (after hints); `VERBOSE` adds the optimized logical plan and
//! what each hint did; `ANALYZE` runs the statement and adds per-operator rows, compute time,
//! spill, bytes and Delta files scanned versus pruned, and for repartitions and joins the rows per
//! partition with a flag when one partition holds more than 4x the median (skew);
//! `FORMAT JSON` returns the same facts as one JSON document for tools.

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::metrics::MetricValue;
use datafusion::physical_plan::{ExecutionPlan, displayable};
use futures::StreamExt;
use serde_json::{Value, json};
use sqlparser::ast;

use super::PlanContext;
use super::planned::plan_statement;
use crate::catalog::TableRef;
use crate::error::{Error, Result};
use crate::output::QueryOutput;

/// A partition is flagged as skewed when it holds more than this many times the median rows.
pub const SKEW_FACTOR: f64 = 4.0;
/// ... and at least this many rows (a handful of groups over 8 partitions is not skew).
pub const SKEW_MIN_ROWS: u64 = 1_000;

/// The one column EXPLAIN returns.
pub fn explain_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        "QUERY PLAN",
        DataType::Utf8,
        false,
    )]))
}

/// What the EXPLAIN options ask for.
#[derive(Debug, Default, Clone, Copy)]
struct Options {
    analyze: bool,
    verbose: bool,
    json: bool,
}

fn options(statement: &ast::Statement) -> Result<Options> {
    let ast::Statement::Explain {
        analyze,
        verbose,
        format,
        options,
        ..
    } = statement
    else {
        return Err(Error::internal("not an EXPLAIN statement"));
    };
    let mut o = Options {
        analyze: *analyze,
        verbose: *verbose,
        json: false,
    };
    if let Some(format) = format {
        o.json = set_format(&format.to_string())?;
    }
    for option in options.iter().flatten() {
        let name = option.name.value.to_ascii_uppercase();
        let value = option
            .arg
            .as_ref()
            .map(|a| a.to_string().trim_matches('\'').to_ascii_uppercase());
        let on = !matches!(value.as_deref(), Some("FALSE" | "OFF" | "0"));
        match name.as_str() {
            "ANALYZE" => o.analyze = on,
            "VERBOSE" => o.verbose = on,
            "FORMAT" => o.json = set_format(value.as_deref().unwrap_or("TEXT"))?,
            "COSTS" | "BUFFERS" | "TIMING" | "SUMMARY" | "SETTINGS" | "WAL" => {}
            other => {
                return Err(Error::syntax(format!(
                    "unrecognized EXPLAIN option \"{}\"",
                    other.to_ascii_lowercase()
                )));
            }
        }
    }
    Ok(o)
}

fn set_format(format: &str) -> Result<bool> {
    match format.trim().to_ascii_uppercase().as_str() {
        "TEXT" => Ok(false),
        "JSON" => Ok(true),
        other => Err(Error::unsupported(format!(
            "EXPLAIN format {other} is not supported; use TEXT or JSON"
        ))),
    }
}

/// Runs EXPLAIN for a query or INSERT.
pub async fn explain(cx: &mut PlanContext<'_>, statement: ast::Statement) -> Result<QueryOutput> {
    let options = options(&statement)?;
    let ast::Statement::Explain {
        statement: inner, ..
    } = statement
    else {
        return Err(Error::internal("not an EXPLAIN statement"));
    };
    if !matches!(*inner, ast::Statement::Query(_) | ast::Statement::Insert(_)) {
        return Err(Error::unsupported(
            "EXPLAIN works on SELECT and INSERT statements; other statements have no DataFusion plan to show",
        ));
    }
    let started = Instant::now();
    let planned = plan_statement(cx.df, cx.settings, *inner).await?;
    let logical = if options.verbose {
        Some(cx.df.state().optimize(&planned.plan)?)
    } else {
        None
    };
    let (physical, task) = planned.physical(cx.df, cx.notices).await?;
    let planning = started.elapsed();

    let mut execution = None;
    let mut rows = 0u64;
    if options.analyze {
        let started = Instant::now();
        let mut stream = datafusion::physical_plan::execute_stream(physical.clone(), task)?;
        while let Some(batch) = stream.next().await {
            rows += batch?.num_rows() as u64;
        }
        execution = Some(started.elapsed());
    }
    let tables = if options.analyze {
        TableFiles::load(cx, &physical).await
    } else {
        TableFiles::default()
    };
    let tree = node_facts(&physical, options.analyze, &tables);

    let lines: Vec<String> = if options.json {
        let mut doc = json!({ "Plan": tree.to_json() });
        if let Some(logical) = &logical {
            doc["Logical Plan"] = json!(logical.display_indent().to_string());
        }
        doc["Hints"] = json!(planned.hint_lines());
        doc["Planning Time"] = json!(ms(planning));
        if let Some(execution) = execution {
            doc["Execution Time"] = json!(ms(execution));
            doc["Rows"] = json!(rows);
        }
        vec![serde_json::to_string_pretty(&json!([doc])).unwrap_or_default()]
    } else {
        let mut lines = Vec::new();
        if let Some(logical) = &logical {
            lines.push("Logical plan:".to_string());
            lines.extend(
                logical
                    .display_indent()
                    .to_string()
                    .lines()
                    .map(|l| format!("  {l}")),
            );
            lines.push("Physical plan:".to_string());
        }
        tree.to_text(0, &mut lines);
        let hints = planned.hint_lines();
        if options.verbose && !hints.is_empty() {
            lines.push("Hints:".to_string());
            lines.extend(hints.iter().map(|h| format!("  {h}")));
        }
        if options.verbose || options.analyze {
            lines.push(format!("Planning Time: {:.3} ms", ms(planning)));
        }
        if let Some(execution) = execution {
            lines.push(format!(
                "Execution Time: {:.3} ms ({rows} rows)",
                ms(execution)
            ));
        }
        lines
    };
    // Result columns PostgreSQL names alike carry an internal suffix in the engine
    // (`?column?` + U+0001 + `2`); a plan reader sees `?column?#2`.
    let lines: Vec<String> = lines
        .into_iter()
        .map(|line| line.replace('\u{1}', "#"))
        .collect();
    let batch = RecordBatch::try_new(explain_schema(), vec![Arc::new(StringArray::from(lines))])?;
    Ok(QueryOutput::from_batch(batch, "EXPLAIN"))
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// What EXPLAIN shows of one operator.
struct NodeFacts {
    name: String,
    line: String,
    metrics: Vec<(String, String)>,
    json_metrics: serde_json::Map<String, Value>,
    partition_rows: Option<Vec<u64>>,
    children: Vec<NodeFacts>,
}

impl NodeFacts {
    fn to_text(&self, depth: usize, out: &mut Vec<String>) {
        let indent = "  ".repeat(depth);
        let mut line = format!("{indent}{}", self.line);
        if !self.metrics.is_empty() {
            let parts: Vec<String> = self
                .metrics
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            line.push_str(&format!(" (actual {})", parts.join(" ")));
        }
        out.push(line);
        if let Some(rows) = &self.partition_rows {
            out.push(format!("{indent}  {}", partition_summary(rows)));
        }
        for child in &self.children {
            child.to_text(depth + 1, out);
        }
    }

    fn to_json(&self) -> Value {
        let mut node = serde_json::Map::new();
        node.insert("Node Type".into(), json!(self.name));
        node.insert("Details".into(), json!(self.line));
        for (k, v) in &self.json_metrics {
            node.insert(k.clone(), v.clone());
        }
        if let Some(rows) = &self.partition_rows {
            let stats = PartitionStats::of(rows);
            node.insert("Partition Rows".into(), json!(rows));
            node.insert("Partition Rows Max".into(), json!(stats.max));
            node.insert("Partition Rows Median".into(), json!(stats.median));
            node.insert("Skewed".into(), json!(stats.skewed()));
        }
        if !self.children.is_empty() {
            node.insert(
                "Plans".into(),
                Value::Array(self.children.iter().map(NodeFacts::to_json).collect()),
            );
        }
        Value::Object(node)
    }
}

/// Rows per partition, summarised.
pub struct PartitionStats {
    /// Partitions counted.
    pub partitions: usize,
    /// Fewest rows in a partition.
    pub min: u64,
    /// The median partition's rows.
    pub median: u64,
    /// Most rows in a partition.
    pub max: u64,
    /// Mean rows per partition.
    pub mean: f64,
}

impl PartitionStats {
    /// Summarises per-partition row counts.
    pub fn of(rows: &[u64]) -> Self {
        let mut sorted = rows.to_vec();
        sorted.sort_unstable();
        let n = sorted.len().max(1);
        Self {
            partitions: rows.len(),
            min: sorted.first().copied().unwrap_or(0),
            median: sorted.get(sorted.len() / 2).copied().unwrap_or(0),
            max: sorted.last().copied().unwrap_or(0),
            mean: sorted.iter().sum::<u64>() as f64 / n as f64,
        }
    }

    /// One partition holds more than [`SKEW_FACTOR`] times the median (and [`SKEW_MIN_ROWS`]).
    pub fn skewed(&self) -> bool {
        self.partitions > 1
            && self.max >= SKEW_MIN_ROWS
            && self.max as f64 > SKEW_FACTOR * self.median.max(1) as f64
    }
}

fn partition_summary(rows: &[u64]) -> String {
    let s = PartitionStats::of(rows);
    let ratio = if s.mean > 0.0 {
        s.max as f64 / s.mean
    } else {
        0.0
    };
    let mut line = format!(
        "rows per partition: {} partitions, min={} median={} max={} (max/mean {:.2})",
        s.partitions, s.min, s.median, s.max, ratio
    );
    if s.skewed() {
        line.push_str(&format!(
            "  SKEW: one partition holds {:.1}x the median rows",
            s.max as f64 / s.median.max(1) as f64
        ));
    }
    line
}

fn node_facts(plan: &Arc<dyn ExecutionPlan>, analyze: bool, tables: &TableFiles) -> NodeFacts {
    let line = displayable(plan.as_ref()).one_line().to_string();
    let mut facts = NodeFacts {
        name: plan.name().to_string(),
        line: line.trim_end().to_string(),
        metrics: Vec::new(),
        json_metrics: serde_json::Map::new(),
        partition_rows: None,
        children: plan
            .children()
            .into_iter()
            .map(|c| node_facts(c, analyze, tables))
            .collect(),
    };
    if analyze && let Some(metrics) = plan.metrics() {
        let mut add = |text: &str, json_key: &str, shown: String, value: Value| {
            facts.metrics.push((text.to_string(), shown));
            facts.json_metrics.insert(json_key.to_string(), value);
        };
        if let Some(rows) = metrics.output_rows() {
            add("rows", "Actual Rows", rows.to_string(), json!(rows));
        }
        if let Some(ns) = metrics.elapsed_compute() {
            let ms = ns as f64 / 1e6;
            add("compute", "Compute Time", format!("{ms:.3}ms"), json!(ms));
        }
        if let Some(bytes) = metrics.spilled_bytes()
            && bytes > 0
        {
            add(
                "spilled",
                "Spilled Bytes",
                human_bytes(bytes as u64),
                json!(bytes),
            );
        }
        if let Some(bytes) = metrics.sum_by_name("bytes_scanned").map(|v| v.as_usize())
            && plan.is::<DataSourceExec>()
        {
            add(
                "bytes_scanned",
                "Bytes Scanned",
                human_bytes(bytes as u64),
                json!(bytes),
            );
        }
        if let Some(scanned) = metrics
            .sum_by_name("count_files_scanned")
            .map(|v| v.as_usize())
        {
            add(
                "files",
                "Files Scanned",
                scanned.to_string(),
                json!(scanned),
            );
            if let Some((table, total)) = tables.for_scan(plan) {
                let pruned = total.saturating_sub(scanned);
                facts.metrics.push((
                    "of".into(),
                    format!("{total} pruned={pruned} table={table}"),
                ));
                facts
                    .json_metrics
                    .insert("Files Total".into(), json!(total));
                facts
                    .json_metrics
                    .insert("Files Pruned".into(), json!(pruned));
                facts
                    .json_metrics
                    .insert("Table".into(), json!(table.to_string()));
            }
        }
        let name = plan.name();
        if name.contains("Join") || name.contains("Repartition") {
            let partitions = plan.properties().partitioning.partition_count();
            let mut rows = vec![0u64; partitions];
            let mut seen = false;
            for metric in metrics.iter() {
                if let (MetricValue::OutputRows(count), Some(p)) =
                    (metric.value(), metric.partition())
                    && p < partitions
                {
                    rows[p] += count.value() as u64;
                    seen = true;
                }
            }
            if seen && partitions > 1 {
                facts.partition_rows = Some(rows);
            }
        }
    }
    facts
}

/// Bytes an executed plan's operators spilled to disk.
pub fn spilled_bytes(plan: &Arc<dyn ExecutionPlan>) -> u64 {
    let own = plan.metrics().and_then(|m| m.spilled_bytes()).unwrap_or(0) as u64;
    own + plan.children().into_iter().map(spilled_bytes).sum::<u64>()
}

/// An executed plan's operators with their actual rows, compute time, spill and rows per
/// partition, as EXPLAIN (ANALYZE, FORMAT JSON) gives them (without the files-pruned figures,
/// which need the catalog): what the console's plan page draws.
pub fn executed_plan_json(plan: &Arc<dyn ExecutionPlan>) -> Value {
    node_facts(plan, true, &TableFiles::default()).to_json()
}

/// Bytes as EXPLAIN and the console print them (1024-based: `1.5 MB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Which table each Delta scan reads and how many files that table has (to show files pruned).
#[derive(Default)]
struct TableFiles {
    /// Table, its location's path (no leading slash) and its file count.
    tables: Vec<(TableRef, String, usize)>,
}

impl TableFiles {
    async fn load(cx: &PlanContext<'_>, plan: &Arc<dyn ExecutionPlan>) -> Self {
        let mut paths = Vec::new();
        collect_file_paths(plan, &mut paths);
        let mut tables = Vec::new();
        for schema in cx.catalog.schema_names() {
            for table in cx.catalog.table_names(&schema) {
                let table_ref = TableRef {
                    schema: schema.clone(),
                    table,
                };
                let Some((url, _)) = cx.catalog.table_location(&table_ref) else {
                    continue;
                };
                let root = url
                    .path()
                    .trim_start_matches('/')
                    .trim_end_matches('/')
                    .to_string();
                if !paths
                    .iter()
                    .any(|p: &String| p.starts_with(&format!("{root}/")))
                {
                    continue;
                }
                if let Ok(loaded) = cx.catalog.load(&table_ref).await
                    && let Ok(snapshot) = loaded.snapshot()
                {
                    tables.push((table_ref, root, snapshot.log_data().num_files()));
                }
            }
        }
        Self { tables }
    }

    fn for_scan(&self, scan: &Arc<dyn ExecutionPlan>) -> Option<(&TableRef, usize)> {
        let mut paths = Vec::new();
        collect_file_paths(scan, &mut paths);
        let path = paths.first()?;
        self.tables
            .iter()
            .filter(|(_, root, _)| path.starts_with(&format!("{root}/")))
            .max_by_key(|(_, root, _)| root.len())
            .map(|(t, _, n)| (t, *n))
    }
}

fn collect_file_paths(plan: &Arc<dyn ExecutionPlan>, out: &mut Vec<String>) {
    if let Some(source) = plan.downcast_ref::<DataSourceExec>()
        && let Some(config) = source.data_source().downcast_ref::<FileScanConfig>()
    {
        for group in &config.file_groups {
            for file in group.files() {
                out.push(file.object_meta.location.to_string());
            }
        }
    }
    for child in plan.children() {
        collect_file_paths(child, out);
    }
}
