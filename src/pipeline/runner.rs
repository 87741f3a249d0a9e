//! Running a pipeline: the DAG in dependency order (independent tasks at the same time), each
//! attempt in a fresh session, retries with back-off, timeouts, history rows and hooks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::file::{Pipeline, Task};
use super::history::{self, Attempt};
use crate::client::SqlRunner;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::script;

/// Where the pipeline's SQL runs.
#[derive(Clone)]
pub enum Connector {
    /// Sessions of an engine in this process.
    Embedded(Arc<Engine>),
    /// Connections to a server (`postgres://...`).
    Remote(String),
}

impl Connector {
    /// A fresh session or connection.
    pub async fn open(&self) -> Result<SqlRunner> {
        match self {
            Connector::Embedded(engine) => Ok(SqlRunner::embedded_on(engine.clone())),
            Connector::Remote(url) => SqlRunner::connect(url).await,
        }
    }
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Parameter values that override the file's.
    pub params: BTreeMap<String, String>,
    /// Rerun this task and everything after it; the rest counts as done.
    pub from: Option<String>,
}

/// One task's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct TaskReport {
    pub name: String,
    /// succeeded, failed or skipped.
    pub status: String,
    pub attempts: u32,
    pub rows_affected: Option<u64>,
    pub seconds: f64,
    pub error: Option<String>,
}

impl TaskReport {
    /// A task that did not run, and why.
    fn skipped(name: &str, why: String) -> Self {
        Self {
            name: name.to_string(),
            status: "skipped".into(),
            attempts: 0,
            rows_affected: None,
            seconds: 0.0,
            error: Some(why),
        }
    }
}

/// A run's outcome: also the JSON hooks receive.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub run_id: String,
    pub pipeline: String,
    /// succeeded or failed.
    pub status: String,
    pub started: String,
    pub finished: String,
    pub params: BTreeMap<String, String>,
    pub tasks: Vec<TaskReport>,
    /// Problems with hooks or the history table (the run's own status stands).
    pub warnings: Vec<String>,
}

impl RunReport {
    /// Whether every task that ran succeeded.
    pub fn succeeded(&self) -> bool {
        self.status == "succeeded"
    }
}

/// Progress lines for people (stdout of `deltagres pipeline run`).
pub type Progress = Arc<dyn Fn(String) + Send + Sync>;

struct Shared {
    pipeline: String,
    run_id: String,
    params: BTreeMap<String, String>,
    params_json: String,
    connector: Connector,
    history: Mutex<SqlRunner>,
    progress: Progress,
}

/// Runs the pipeline; Err only when it cannot start (invalid file, unreachable server).
pub async fn run(
    pipeline: &Pipeline,
    connector: Connector,
    options: &RunOptions,
    progress: Progress,
) -> Result<RunReport> {
    let mut params = pipeline.params.clone();
    params.extend(options.params.clone());
    let problems = pipeline.problems(&params);
    if !problems.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!("the pipeline cannot run: {}", problems.join("; ")),
        ));
    }
    let selected: BTreeSet<String> = match &options.from {
        Some(from) => {
            if pipeline.task(from).is_none() {
                return Err(Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("--from {from}: no such task"),
                ));
            }
            pipeline.downstream_of(from)
        }
        None => pipeline.tasks.iter().map(|t| t.name.clone()).collect(),
    };
    let started = Utc::now();
    let run_id = format!(
        "{}-{}-{:04x}",
        pipeline.name,
        started.format("%Y%m%dT%H%M%S"),
        (started.timestamp_subsec_nanos() ^ std::process::id()) & 0xffff
    );
    let mut history_runner = connector.open().await?;
    history::ensure_table(&mut history_runner).await?;
    let shared = Arc::new(Shared {
        pipeline: pipeline.name.clone(),
        run_id: run_id.clone(),
        params_json: serde_json::to_string(&params).unwrap_or_default(),
        params: params.clone(),
        connector,
        history: Mutex::new(history_runner),
        progress: progress.clone(),
    });
    progress(format!("run {run_id}: {} task(s)", selected.len()));
    let graph = serde_json::to_string(
        &pipeline
            .tasks
            .iter()
            .map(|t| (t.name.as_str(), &t.depends_on))
            .collect::<BTreeMap<_, _>>(),
    )
    .unwrap_or_default();
    let mut run_row = Attempt {
        run_id: run_id.clone(),
        pipeline: pipeline.name.clone(),
        task: "*".into(),
        attempt: 1,
        status: "running".into(),
        started,
        finished: None,
        rows_affected: None,
        error: None,
        params: shared.params_json.clone(),
        depends_on: graph,
    };
    let mut warnings = Vec::new();
    if let Err(e) = history::record(&mut *shared.history.lock().await, &run_row).await {
        warnings.push(format!("recording the run's start failed: {}", e.message));
    }

    let mut reports: BTreeMap<String, TaskReport> = BTreeMap::new();
    for t in &pipeline.tasks {
        if !selected.contains(&t.name) {
            reports.insert(
                t.name.clone(),
                TaskReport::skipped(&t.name, "before --from: counted as done".into()),
            );
        }
    }
    let mut running: JoinSet<TaskReport> = JoinSet::new();
    let mut started_tasks: BTreeSet<String> = BTreeSet::new();
    loop {
        for t in &pipeline.tasks {
            if reports.contains_key(&t.name) || started_tasks.contains(&t.name) {
                continue;
            }
            let deps: Vec<Option<&TaskReport>> =
                t.depends_on.iter().map(|d| reports.get(d)).collect();
            if deps.iter().any(|d| d.is_none()) {
                continue;
            }
            let blocked = deps.iter().flatten().find(|d| {
                d.status == "failed" || (d.status == "skipped" && selected.contains(&d.name))
            });
            if let Some(upstream) = blocked {
                progress(format!(
                    "{:<16} skipped: {} did not succeed",
                    t.name, upstream.name
                ));
                let why = format!("upstream task {} did not succeed", upstream.name);
                let now = Utc::now();
                let row = Attempt {
                    run_id: run_id.clone(),
                    pipeline: pipeline.name.clone(),
                    task: t.name.clone(),
                    attempt: 0,
                    status: "skipped".into(),
                    started: now,
                    finished: Some(now),
                    rows_affected: None,
                    error: Some(why.clone()),
                    params: shared.params_json.clone(),
                    depends_on: json_list(&t.depends_on),
                };
                if let Err(e) = history::record(&mut *shared.history.lock().await, &row).await {
                    progress(format!(
                        "warning: recording {} failed: {}",
                        t.name, e.message
                    ));
                }
                reports.insert(t.name.clone(), TaskReport::skipped(&t.name, why));
                continue;
            }
            started_tasks.insert(t.name.clone());
            running.spawn(run_task(t.clone(), shared.clone()));
        }
        let Some(done) = running.join_next().await else {
            if reports.len() == pipeline.tasks.len() {
                break;
            }
            continue;
        };
        let report = done.map_err(|e| Error::internal(format!("task panicked: {e}")))?;
        reports.insert(report.name.clone(), report);
    }

    let failed = reports.values().any(|r| r.status == "failed");
    let finished = Utc::now();
    let tasks: Vec<TaskReport> = pipeline
        .tasks
        .iter()
        .filter_map(|t| reports.remove(&t.name))
        .collect();
    let mut report = RunReport {
        run_id: run_id.clone(),
        pipeline: pipeline.name.clone(),
        status: if failed { "failed" } else { "succeeded" }.into(),
        started: started.to_rfc3339(),
        finished: finished.to_rfc3339(),
        params,
        tasks,
        warnings,
    };
    run_row.status = report.status.clone();
    run_row.finished = Some(finished);
    run_row.rows_affected = Some(report.tasks.iter().filter_map(|t| t.rows_affected).sum());
    run_row.error = report
        .tasks
        .iter()
        .find(|t| t.status == "failed")
        .and_then(|t| t.error.clone());
    if let Err(e) = history::record(&mut *shared.history.lock().await, &run_row).await {
        report
            .warnings
            .push(format!("recording the run failed: {}", e.message));
    }
    let hook = if failed {
        pipeline.hooks.on_failure.as_ref()
    } else {
        pipeline.hooks.on_success.as_ref()
    };
    if let Some(hook) = hook {
        let json = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Some(problem) = super::hooks::fire(hook, &json).await {
            progress(format!("warning: {problem}"));
            report.warnings.push(problem);
        }
    }
    progress(format!(
        "run {run_id} {} in {:.1}s",
        report.status,
        (finished - started).num_milliseconds() as f64 / 1000.0
    ));
    Ok(report)
}

/// A task's upstream tasks as the JSON array `system.pipeline_runs.depends_on` holds.
fn json_list(names: &[String]) -> String {
    serde_json::to_string(names).unwrap_or_default()
}

/// Runs one task with its retries; never fails (the report says how it went).
async fn run_task(task: Task, shared: Arc<Shared>) -> TaskReport {
    let progress = shared.progress.clone();
    let first_start = Instant::now();
    let attempts = task.retries + 1;
    let mut backoff = task.retry_backoff_secs.max(0.0);
    let mut last_error = None;
    // Statements that committed are never run again: a retry resumes at the one that failed.
    let mut done = ScriptProgress::default();
    let mut attempts_made = 0;
    for attempt in 1..=attempts {
        progress(format!(
            "{:<16} attempt {attempt}/{attempts} started",
            task.name
        ));
        let started = Utc::now();
        let clock = Instant::now();
        let outcome = match shared.connector.open().await {
            Err(e) => Err(e),
            Ok(mut runner) => {
                let cancel = runner.cancel_token();
                match tokio::time::timeout(
                    Duration::from_secs_f64(task.timeout_secs.max(0.001)),
                    run_script(&task, &shared, &mut runner, &mut done),
                )
                .await
                {
                    Ok(result) => result.map(|()| done.rows),
                    Err(_) => {
                        // Stop the statement on the server too, not just our wait for it.
                        if let Some(cancel) = cancel {
                            let _ = cancel.cancel_query(tokio_postgres::NoTls).await;
                        }
                        Err(Error::new(
                            ErrorKind::QueryCanceled,
                            format!("timed out after {}s", task.timeout_secs),
                        )
                        .with_detail(TIMED_OUT.to_string()))
                    }
                }
            }
        };
        let finished = Utc::now();
        let (status, rows, error) = match &outcome {
            Ok(rows) => ("succeeded", Some(*rows), None),
            Err(e) => (
                "failed",
                None,
                Some(format!("{} (SQLSTATE {})", e.message, e.sqlstate())),
            ),
        };
        let row = Attempt {
            run_id: shared.run_id.clone(),
            pipeline: shared.pipeline.clone(),
            task: task.name.clone(),
            attempt,
            status: status.into(),
            started,
            finished: Some(finished),
            rows_affected: rows,
            error: error.clone(),
            params: shared.params_json.clone(),
            depends_on: json_list(&task.depends_on),
        };
        if let Err(e) = history::record(&mut *shared.history.lock().await, &row).await {
            progress(format!(
                "warning: recording {} failed: {}",
                task.name, e.message
            ));
        }
        match outcome {
            Ok(rows) => {
                progress(format!(
                    "{:<16} succeeded in {:.2}s ({rows} rows)",
                    task.name,
                    clock.elapsed().as_secs_f64()
                ));
                return TaskReport {
                    name: task.name.clone(),
                    status: "succeeded".into(),
                    attempts: attempt,
                    rows_affected: Some(rows),
                    seconds: first_start.elapsed().as_secs_f64(),
                    error: None,
                };
            }
            Err(e) => {
                let error = error.unwrap_or_default();
                let transient = is_transient(&e, task.retry_on_timeout);
                attempts_made = attempt;
                if attempt < attempts && transient {
                    progress(format!(
                        "{:<16} attempt {attempt} failed: {error}; retrying in {backoff:.1}s",
                        task.name
                    ));
                    tokio::time::sleep(Duration::from_secs_f64(backoff)).await;
                    backoff *= 2.0;
                    last_error = Some(error);
                    continue;
                }
                if attempt < attempts {
                    progress(format!(
                        "{:<16} failed: {error} (not retried: SQLSTATE {} is not a transient error)",
                        task.name,
                        e.sqlstate()
                    ));
                } else {
                    progress(format!("{:<16} failed: {error}", task.name));
                }
                last_error = Some(error);
                break;
            }
        }
    }
    TaskReport {
        name: task.name.clone(),
        status: "failed".into(),
        attempts: attempts_made,
        rows_affected: None,
        seconds: first_start.elapsed().as_secs_f64(),
        error: last_error,
    }
}

/// The detail our own task timeout carries (a server's statement_timeout does not).
const TIMED_OUT: &str = "the task's timeout_secs ran out";

/// Errors worth another attempt: a write conflict (40xxx), a lost or refused connection (08xxx),
/// the server short of resources (53xxx), the server shutting down (57P0x), storage that failed
/// or input files not there yet (58xxx), and the task's own
/// timeout when the file says `retry_on_timeout = true`. Anything else (a syntax error, a
/// missing table, bad data) fails the same way again.
fn is_transient(e: &Error, retry_on_timeout: bool) -> bool {
    let code = e.sqlstate();
    if e.detail.as_deref() == Some(TIMED_OUT) {
        return retry_on_timeout;
    }
    code.starts_with("40")
        || code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P0")
        || code.starts_with("58")
}

/// SET / RESET: statements that only change the session, rerun when an attempt resumes.
fn changes_session_only(sql: &str) -> bool {
    let first = sql
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    matches!(first.as_str(), "SET" | "RESET")
}

/// How far a task's script got: the statements before `next` committed, with `rows` affected.
#[derive(Debug, Default)]
struct ScriptProgress {
    next: usize,
    rows: u64,
}

/// One attempt: the script's statements in order in a fresh session, from the first one that
/// has not yet succeeded.
async fn run_script(
    task: &Task,
    shared: &Shared,
    runner: &mut SqlRunner,
    done: &mut ScriptProgress,
) -> Result<()> {
    let text = std::fs::read_to_string(&task.file)
        .map_err(|e| Error::new(ErrorKind::IoError, format!("{}: {e}", task.file.display())))?;
    let text = script::substitute(&text, &shared.params)?;
    for (index, statement) in script::split(&text)?.into_iter().enumerate() {
        // The new session needs the settings the earlier statements made; they commit nothing.
        let committed_before = index < done.next;
        if committed_before && !changes_session_only(&statement.sql) {
            continue;
        }
        let result = runner.run(&statement.sql).await.map_err(|e| {
            let file = task
                .file
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            Error {
                message: format!("{file}:{}: {}", statement.line, e.message),
                ..e
            }
        })?;
        if !committed_before {
            done.rows += result.affected.unwrap_or(0);
            done.next = index + 1;
        }
    }
    Ok(())
}
