//! `system.pipeline_runs`: every run and task attempt, as a Delta table anyone can query.
//!
//! A run writes a `running` row for itself (task `*`) when it starts, a row per task attempt (and
//! per task skipped because an upstream task failed) as each ends, and its final row at the end:
//! a run in progress is visible while it runs. `depends_on` holds the graph as JSON: on a task
//! row the task's upstream tasks (`["load"]`), on a run row the whole graph (`{"check":
//! ["load"], "load": []}`), so the console can draw it before any task has finished.

use crate::client::SqlRunner;
use crate::error::Result;

/// The table's definition (created on first use).
const CREATE: &str = "CREATE SCHEMA IF NOT EXISTS system; \
    CREATE TABLE IF NOT EXISTS system.pipeline_runs ( \
      run_id TEXT NOT NULL, pipeline TEXT, task TEXT, attempt INT, status TEXT, \
      started TIMESTAMP, finished TIMESTAMP, rows_affected BIGINT, error TEXT, params TEXT, \
      depends_on TEXT)";

/// Tables made before `depends_on` existed get it on first use.
const ADD_DEPENDS_ON: &str =
    "ALTER TABLE system.pipeline_runs ADD COLUMN IF NOT EXISTS depends_on TEXT";

/// One row: a task attempt, or the run itself (task `*`).
#[derive(Debug, Clone)]
pub struct Attempt {
    pub run_id: String,
    pub pipeline: String,
    pub task: String,
    pub attempt: u32,
    pub status: String,
    pub started: chrono::DateTime<chrono::Utc>,
    /// None while the run is in progress.
    pub finished: Option<chrono::DateTime<chrono::Utc>>,
    pub rows_affected: Option<u64>,
    pub error: Option<String>,
    pub params: String,
    /// The graph as JSON (see the module header).
    pub depends_on: String,
}

fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn timestamp(t: &chrono::DateTime<chrono::Utc>) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f"))
}

/// Creates the table when it is missing.
pub async fn ensure_table(runner: &mut SqlRunner) -> Result<()> {
    runner.run(CREATE).await?;
    runner.run(ADD_DEPENDS_ON).await.map(|_| ())
}

/// Appends one row.
pub async fn record(runner: &mut SqlRunner, a: &Attempt) -> Result<()> {
    let sql = format!(
        "INSERT INTO system.pipeline_runs \
         (run_id, pipeline, task, attempt, status, started, finished, rows_affected, error, params, depends_on) \
         VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        text(&a.run_id),
        text(&a.pipeline),
        text(&a.task),
        a.attempt,
        text(&a.status),
        timestamp(&a.started),
        a.finished
            .as_ref()
            .map(timestamp)
            .unwrap_or_else(|| "NULL".into()),
        a.rows_affected
            .map(|n| n.to_string())
            .unwrap_or_else(|| "NULL".into()),
        a.error
            .as_deref()
            .map(text)
            .unwrap_or_else(|| "NULL".into()),
        text(&a.params),
        text(&a.depends_on),
    );
    runner.run(&sql).await.map(|_| ())
}
