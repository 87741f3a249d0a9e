//! `system.pipeline_runs`: every run and task attempt, as a Delta table anyone can query.

use crate::client::SqlRunner;
use crate::error::Result;

/// The table's definition (created on first use).
const CREATE: &str = "CREATE SCHEMA IF NOT EXISTS system; \
    CREATE TABLE IF NOT EXISTS system.pipeline_runs ( \
      run_id TEXT NOT NULL, pipeline TEXT, task TEXT, attempt INT, status TEXT, \
      started TIMESTAMP, finished TIMESTAMP, rows_affected BIGINT, error TEXT, params TEXT)";

/// One row: a task attempt, or the run itself (task `*`).
#[derive(Debug, Clone)]
pub struct Attempt {
    pub run_id: String,
    pub pipeline: String,
    pub task: String,
    pub attempt: u32,
    pub status: String,
    pub started: chrono::DateTime<chrono::Utc>,
    pub finished: chrono::DateTime<chrono::Utc>,
    pub rows_affected: Option<u64>,
    pub error: Option<String>,
    pub params: String,
}

fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn timestamp(t: &chrono::DateTime<chrono::Utc>) -> String {
    format!("TIMESTAMP '{}'", t.format("%Y-%m-%d %H:%M:%S%.6f"))
}

/// Creates the table when it is missing.
pub async fn ensure_table(runner: &mut SqlRunner) -> Result<()> {
    runner.run(CREATE).await.map(|_| ())
}

/// Appends one row.
pub async fn record(runner: &mut SqlRunner, a: &Attempt) -> Result<()> {
    let sql = format!(
        "INSERT INTO system.pipeline_runs VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        text(&a.run_id),
        text(&a.pipeline),
        text(&a.task),
        a.attempt,
        text(&a.status),
        timestamp(&a.started),
        timestamp(&a.finished),
        a.rows_affected
            .map(|n| n.to_string())
            .unwrap_or_else(|| "NULL".into()),
        a.error
            .as_deref()
            .map(text)
            .unwrap_or_else(|| "NULL".into()),
        text(&a.params),
    );
    runner.run(&sql).await.map(|_| ())
}
