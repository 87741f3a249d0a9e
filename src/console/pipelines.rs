//! The Pipelines pages: runs recorded in `system.pipeline_runs` (by `deltagres pipeline run`),
//! and one run's tasks with their status, attempts and errors, drawn as a timeline (Gantt) of
//! every attempt. Read with a query on the engine; nothing is written.

use std::fmt::Write;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit};

use super::pages::{escape, layout};
use crate::engine::Engine;

/// Runs listed.
const RUNS_SHOWN: usize = 50;

/// One row of `system.pipeline_runs`: a task attempt, or the run itself (task `*`).
struct Row {
    run_id: String,
    pipeline: String,
    task: String,
    attempt: i64,
    status: String,
    /// Microseconds since the epoch.
    started: Option<i64>,
    finished: Option<i64>,
    rows_affected: Option<i64>,
    error: Option<String>,
    /// The graph as JSON: a task's upstream tasks, or a run's whole graph (pipeline/history.rs).
    depends_on: Option<String>,
}

async fn rows(engine: &Engine, filter: Option<&str>) -> Result<Vec<Row>, String> {
    let exists = engine.catalog().table_exists(&crate::catalog::TableRef {
        schema: "system".into(),
        table: "pipeline_runs".into(),
    });
    if !exists {
        return Ok(Vec::new());
    }
    let ctx = engine.new_context();
    // `SELECT *`: a table written before `depends_on` existed lacks that column.
    let mut sql = "SELECT * FROM system.pipeline_runs".to_string();
    if let Some(run) = filter {
        let _ = write!(sql, " WHERE run_id = '{}'", run.replace('\'', "''"));
    }
    sql.push_str(" ORDER BY started, task, attempt");
    let batches = ctx
        .sql(&sql)
        .await
        .map_err(|e| e.to_string())?
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for batch in &batches {
        read_batch(batch, &mut out);
    }
    Ok(out)
}

fn read_batch(batch: &RecordBatch, out: &mut Vec<Row>) {
    let column = |name: &str, to: &DataType| {
        let c = batch.schema().index_of(name).ok()?;
        datafusion::arrow::compute::cast(batch.column(c), to).ok()
    };
    let texts = |name: &str| column(name, &DataType::Utf8);
    let ints = |name: &str| column(name, &DataType::Int64);
    let micros = |name: &str| {
        let col = column(name, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
        datafusion::arrow::compute::cast(&col, &DataType::Int64).ok()
    };
    let (run_id, pipeline, task, status, error, depends_on) = (
        texts("run_id"),
        texts("pipeline"),
        texts("task"),
        texts("status"),
        texts("error"),
        texts("depends_on"),
    );
    let (attempt, rows_affected) = (ints("attempt"), ints("rows_affected"));
    let (started, finished) = (micros("started"), micros("finished"));
    let text = |col: &Option<ArrayRef>, r: usize| {
        let col = col.as_ref()?.as_string::<i32>();
        (!col.is_null(r)).then(|| col.value(r).to_string())
    };
    let int = |col: &Option<ArrayRef>, r: usize| {
        let col = col.as_ref()?.as_primitive::<Int64Type>();
        (!col.is_null(r)).then(|| col.value(r))
    };
    for r in 0..batch.num_rows() {
        out.push(Row {
            run_id: text(&run_id, r).unwrap_or_default(),
            pipeline: text(&pipeline, r).unwrap_or_default(),
            task: text(&task, r).unwrap_or_default(),
            attempt: int(&attempt, r).unwrap_or(0),
            status: text(&status, r).unwrap_or_default(),
            started: int(&started, r),
            finished: int(&finished, r),
            rows_affected: int(&rows_affected, r),
            error: text(&error, r),
            depends_on: text(&depends_on, r),
        });
    }
}

/// Each run's row (task `*`): its final row once it has ended, else the row it wrote when it
/// started. In the order the runs started.
fn run_rows(rows: &[Row]) -> Vec<&Row> {
    let mut runs: Vec<&Row> = Vec::new();
    for row in rows.iter().filter(|r| r.task == "*") {
        match runs.iter_mut().find(|r| r.run_id == row.run_id) {
            Some(kept) if kept.finished.is_none() => *kept = row,
            Some(_) => {}
            None => runs.push(row),
        }
    }
    runs
}

fn when(micros: Option<i64>) -> String {
    micros
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn seconds(start: Option<i64>, end: Option<i64>) -> String {
    match (start, end) {
        (Some(s), Some(e)) => format!("{:.2} s", (e - s) as f64 / 1e6),
        _ => String::new(),
    }
}

fn status_cell(status: &str) -> String {
    format!(
        "<span class=\"state {}\">{}</span>",
        status_class(status),
        escape(status)
    )
}

/// Recent runs, newest first.
pub async fn list(engine: &Engine) -> String {
    let rows = match rows(engine, None).await {
        Ok(r) => r,
        Err(e) => {
            return layout(
                "Pipelines",
                &format!("<h1>Pipelines</h1><p class=\"error\">{}</p>", escape(&e)),
            );
        }
    };
    let mut runs = run_rows(&rows);
    runs.reverse();
    let mut body = String::from(
        "<h1>Pipeline runs</h1><table class=\"runs\"><thead><tr><th>Run</th><th>Pipeline</th>\
         <th>Status</th><th>Started</th><th>Duration</th><th>Tasks</th><th>Failed attempts</th></tr>\
         </thead><tbody>",
    );
    if runs.is_empty() {
        body.push_str("<tr><td colspan=\"7\"><em>No runs yet: <code>deltagres pipeline run</code> records them in system.pipeline_runs.</em></td></tr>");
    }
    for run in runs.into_iter().take(RUNS_SHOWN) {
        let tasks: Vec<&Row> = rows
            .iter()
            .filter(|r| r.run_id == run.run_id && r.task != "*")
            .collect();
        let mut names: Vec<&str> = tasks.iter().map(|t| t.task.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let failed = tasks
            .iter()
            .filter(|t| status_class(&t.status) == "failed")
            .count();
        let _ = write!(
            body,
            "<tr><td><a href=\"/pipelines/{id}\">{id_text}</a></td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{failed}</td></tr>",
            escape(&run.pipeline),
            status_cell(&run.status),
            when(run.started),
            seconds(run.started, run.finished),
            names.len(),
            id = super::tables::urlencode(&run.run_id),
            id_text = escape(&run.run_id),
        );
    }
    body.push_str("</tbody></table>");
    layout("Pipelines", &body)
}

/// The runner's statuses (`running`, `succeeded`, `failed`, `skipped`) and the console's own
/// (`pending`, `not run`) as the console's state classes.
fn status_class(status: &str) -> &'static str {
    match status {
        "succeeded" => "done",
        "failed" => "failed",
        "skipped" | "not run" => "skipped",
        "pending" => "pending",
        _ => "running",
    }
}

/// One run: its tasks (status of the last attempt, attempts, errors) and a timeline of every
/// attempt. None when there is no such run.
pub async fn run(engine: &Engine, run_id: &str) -> Option<String> {
    let rows = rows(engine, Some(run_id)).await.ok()?;
    let run = *run_rows(&rows).first()?;
    let attempts: Vec<&Row> = rows.iter().filter(|r| r.task != "*").collect();
    let graph = graph(run, &attempts);
    let mut body = format!(
        "<h1>Run {}</h1><table class=\"facts\"><tr><th>Pipeline</th><td>{}</td></tr>\
         <tr><th>Status</th><td id=\"run-status\">{}</td></tr><tr><th>Started</th><td>{}</td></tr>\
         <tr><th>Duration</th><td>{}</td></tr></table>",
        escape(run_id),
        escape(&run.pipeline),
        status_cell(&run.status),
        when(run.started),
        seconds(run.started, run.finished),
    );
    body.push_str(&dag(&graph, run, &attempts));
    body.push_str(
        "<h2>Tasks</h2><table class=\"tasks\"><thead><tr><th>Task</th><th>Status</th>\
         <th>Attempts</th><th>Rows</th><th>Duration</th><th>Error</th></tr></thead><tbody>",
    );
    let mut order: Vec<&str> = Vec::new();
    for a in &attempts {
        if !order.contains(&a.task.as_str()) {
            order.push(&a.task);
        }
    }
    for (task, _) in &graph {
        if !order.contains(&task.as_str()) {
            order.push(task);
        }
    }
    for task in &order {
        let tries: Vec<&&Row> = attempts.iter().filter(|a| a.task == *task).collect();
        let Some(last) = tries.last() else {
            let state = task_state(task, &graph, run, &attempts);
            let _ = write!(
                body,
                "<tr data-task=\"{t}\"><td>{t}</td><td>{}</td><td class=\"num\">0</td><td></td>\
                 <td></td><td></td></tr>",
                status_cell(state),
                t = escape(task),
            );
            continue;
        };
        let error = tries
            .iter()
            .rev()
            .find_map(|a| a.error.as_deref())
            .unwrap_or("");
        let _ = write!(
            body,
            "<tr data-task=\"{t}\"><td>{t}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"error\">{}</td></tr>",
            status_cell(&last.status),
            tries.iter().filter(|a| a.attempt > 0).count(),
            last.rows_affected
                .map(|n| n.to_string())
                .unwrap_or_default(),
            seconds(last.started, last.finished),
            escape(error),
            t = escape(task),
        );
    }
    body.push_str("</tbody></table>");
    body.push_str(&gantt(run, &attempts, &order));
    Some(layout(&format!("Run {run_id}"), &body))
}

/// Every attempt as a bar on one time axis, a row per task.
fn gantt(run: &Row, attempts: &[&Row], order: &[&str]) -> String {
    let start = attempts
        .iter()
        .filter_map(|a| a.started)
        .chain(run.started)
        .min()
        .unwrap_or(0);
    let end = attempts
        .iter()
        .filter_map(|a| a.finished)
        .chain(run.finished)
        .max()
        .unwrap_or(start)
        .max(start + 1);
    let span = (end - start) as f64;
    let mut out = format!(
        "<h2>Timeline <small>({} from first start to last end)</small></h2><div class=\"gantt\">",
        seconds(Some(start), Some(end))
    );
    for task in order {
        let _ = write!(
            out,
            "<div class=\"lane\"><div class=\"lane-name\">{}</div><div class=\"lane-bars\">",
            escape(task)
        );
        for a in attempts.iter().filter(|a| a.task == *task) {
            let (Some(s), Some(e)) = (a.started, a.finished) else {
                continue;
            };
            let left = 100.0 * (s - start) as f64 / span;
            let width = (100.0 * (e - s) as f64 / span).max(0.3);
            let _ = write!(
                out,
                "<div class=\"attempt {}\" style=\"left:{left:.2}%;width:{width:.2}%\" \
                 title=\"{} attempt {}: {} ({})\"></div>",
                status_class(&a.status),
                escape(task),
                a.attempt,
                escape(&a.status),
                seconds(a.started, a.finished)
            );
        }
        out.push_str("</div></div>");
    }
    out.push_str("</div>");
    out
}

/// A run's tasks with their upstream tasks, in the pipeline's order: from the run's row (which
/// has the whole graph from the start), else from its task rows (runs recorded before the graph
/// was).
fn graph(run: &Row, attempts: &[&Row]) -> Vec<(String, Vec<String>)> {
    let whole: Option<std::collections::BTreeMap<String, Vec<String>>> = run
        .depends_on
        .as_deref()
        .and_then(|json| serde_json::from_str(json).ok());
    if let Some(whole) = whole {
        return whole.into_iter().collect();
    }
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for a in attempts {
        if out.iter().any(|(t, _)| *t == a.task) {
            continue;
        }
        let upstream = a
            .depends_on
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default();
        out.push((a.task.clone(), upstream));
    }
    out
}

/// A task's state: its last attempt's status; with no attempt yet, `running` when the run is
/// in progress and every upstream task succeeded (the runner starts a task as soon as it can),
/// `pending` while it waits for them, and `not run` once the run has ended.
fn task_state<'a>(
    task: &str,
    graph: &[(String, Vec<String>)],
    run: &Row,
    attempts: &'a [&Row],
) -> &'a str {
    let last = |name: &str| {
        attempts
            .iter()
            .rev()
            .find(|a| a.task == name)
            .map(|a| a.status.as_str())
    };
    if let Some(status) = last(task) {
        return status;
    }
    if run.finished.is_some() {
        return "not run";
    }
    let upstream = graph
        .iter()
        .find(|(t, _)| t == task)
        .map(|(_, up)| up.as_slice())
        .unwrap_or_default();
    if upstream.iter().all(|u| last(u) == Some("succeeded")) {
        "running"
    } else {
        "pending"
    }
}

/// Node size and gaps of the graph drawing, in SVG units.
const NODE_W: usize = 170;
const NODE_H: usize = 40;
const GAP_X: usize = 60;
const GAP_Y: usize = 16;

/// The run's graph as an SVG drawn on the server: a column per depth (longest path from a task
/// with no upstream), each task a box coloured by its state, an arrow from each upstream task.
fn dag(graph: &[(String, Vec<String>)], run: &Row, attempts: &[&Row]) -> String {
    if graph.is_empty() {
        return String::new();
    }
    let mut depth: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    // At most one pass per task settles the depths (the runner refuses cycles).
    for _ in 0..graph.len() {
        for (task, upstream) in graph {
            let d = upstream
                .iter()
                .map(|u| depth.get(u.as_str()).map_or(1, |d| d + 1))
                .max()
                .unwrap_or(0);
            depth.insert(task, d);
        }
    }
    let mut place: std::collections::HashMap<&str, (usize, usize)> =
        std::collections::HashMap::new();
    let mut per_column: Vec<usize> = Vec::new();
    for (task, _) in graph {
        let column = depth[task.as_str()];
        if per_column.len() <= column {
            per_column.resize(column + 1, 0);
        }
        let x = 10 + column * (NODE_W + GAP_X);
        let y = 10 + per_column[column] * (NODE_H + GAP_Y);
        per_column[column] += 1;
        place.insert(task, (x, y));
    }
    let width = 20 + per_column.len() * (NODE_W + GAP_X) - GAP_X;
    let height = 20 + per_column.iter().max().copied().unwrap_or(1) * (NODE_H + GAP_Y) - GAP_Y;
    let mut out = format!(
        "<h2>Graph</h2><svg class=\"dag\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"task graph\">\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\"/>\
         </marker></defs>"
    );
    for (task, upstream) in graph {
        let (x, y) = place[task.as_str()];
        for u in upstream {
            let Some(&(ux, uy)) = place.get(u.as_str()) else {
                continue;
            };
            let (x1, y1, x2, y2) = (ux + NODE_W, uy + NODE_H / 2, x, y + NODE_H / 2);
            let mid = (x1 + x2) / 2;
            let _ = write!(
                out,
                "<path class=\"edge\" data-edge=\"{}-&gt;{}\" d=\"M{x1},{y1}C{mid},{y1} {mid},{y2} {x2},{y2}\" \
                 marker-end=\"url(#arrow)\"/>",
                escape(u),
                escape(task)
            );
        }
    }
    for (task, _) in graph {
        let (x, y) = place[task.as_str()];
        let state = task_state(task, graph, run, attempts);
        let _ = write!(
            out,
            "<g class=\"node {}\" data-task=\"{t}\" data-state=\"{s}\"><title>{t}: {s}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"5\"/>\
             <text x=\"{}\" y=\"{}\">{t}</text><text class=\"sub\" x=\"{}\" y=\"{}\">{s}</text></g>",
            status_class(state),
            x + 8,
            y + 17,
            x + 8,
            y + 33,
            t = escape(task),
            s = escape(state),
        );
    }
    out.push_str("</svg>");
    out
}
