//! The Pipelines pages: runs recorded in `system.pipeline_runs` (by `deltagres pipeline run`),
//! and one run's tasks with their status, attempts and errors, drawn as a timeline (Gantt) of
//! every attempt. Read with a query on the engine; nothing is written.

use std::fmt::Write;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
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
    let mut sql = "SELECT run_id, pipeline, task, attempt, status, started, finished, \
                   rows_affected, error FROM system.pipeline_runs"
        .to_string();
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
    let text = |c: usize, r: usize| {
        let col = datafusion::arrow::compute::cast(batch.column(c), &DataType::Utf8).ok()?;
        let col = col.as_string::<i32>();
        (!col.is_null(r)).then(|| col.value(r).to_string())
    };
    let int = |c: usize, r: usize| {
        let col = datafusion::arrow::compute::cast(batch.column(c), &DataType::Int64).ok()?;
        let col = col.as_primitive::<Int64Type>();
        (!col.is_null(r)).then(|| col.value(r))
    };
    let micros = |c: usize, r: usize| {
        let col = datafusion::arrow::compute::cast(
            batch.column(c),
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        )
        .ok()?;
        let col = datafusion::arrow::compute::cast(&col, &DataType::Int64).ok()?;
        let col = col.as_primitive::<Int64Type>();
        (!col.is_null(r)).then(|| col.value(r))
    };
    for r in 0..batch.num_rows() {
        out.push(Row {
            run_id: text(0, r).unwrap_or_default(),
            pipeline: text(1, r).unwrap_or_default(),
            task: text(2, r).unwrap_or_default(),
            attempt: int(3, r).unwrap_or(0),
            status: text(4, r).unwrap_or_default(),
            started: micros(5, r),
            finished: micros(6, r),
            rows_affected: int(7, r),
            error: text(8, r),
        });
    }
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
    let mut runs: Vec<&Row> = rows.iter().filter(|r| r.task == "*").collect();
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

/// The runner's statuses (`succeeded`, `failed`, `skipped`) as the console's state classes.
fn status_class(status: &str) -> &'static str {
    match status {
        "succeeded" => "done",
        "failed" => "failed",
        "skipped" => "skipped",
        _ => "running",
    }
}

/// One run: its tasks (status of the last attempt, attempts, errors) and a timeline of every
/// attempt. None when there is no such run.
pub async fn run(engine: &Engine, run_id: &str) -> Option<String> {
    let rows = rows(engine, Some(run_id)).await.ok()?;
    let run = rows.iter().find(|r| r.task == "*")?;
    let attempts: Vec<&Row> = rows.iter().filter(|r| r.task != "*").collect();
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
    for task in &order {
        let tries: Vec<&&Row> = attempts.iter().filter(|a| a.task == *task).collect();
        let last = tries.last().expect("a task has attempts");
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
            tries.len(),
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
