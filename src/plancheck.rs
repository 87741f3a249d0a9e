//! `deltagres plan-check`: physical plans of SQL scripts, snapshotted for review in CI.
//!
//! A lost broadcast or a new shuffle changes how long a pipeline takes without changing a single
//! result row, so tests on results never notice. plan-check runs EXPLAIN for every query of the
//! scripts (SELECTs, INSERT ... SELECT, the query of CREATE TABLE AS and of INSERT ... REPLACE
//! WHERE), normalises the plans (no file paths, no file lists) and compares them with the
//! committed snapshots; a difference fails the check with a diff, `--update` rewrites them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use sqlparser::ast;

use crate::client::SqlRunner;
use crate::dialect::{Statement, parse_sql};
use crate::error::{Error, ErrorKind, Result};
use crate::script;

/// What to check.
#[derive(Debug, Clone)]
pub struct PlanCheckOptions {
    /// The SQL scripts.
    pub scripts: Vec<PathBuf>,
    /// Where the snapshots live (one `<script>.plan` file per script).
    pub snapshots: PathBuf,
    /// Rewrite the snapshots instead of comparing.
    pub update: bool,
    /// Values for `${name}` in the scripts.
    pub params: BTreeMap<String, String>,
    /// `target_partitions` for planning, fixed so plans do not depend on the machine's cores.
    pub partitions: usize,
}

/// The result for one script.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptOutcome {
    /// The plans match the snapshot.
    Unchanged,
    /// The snapshot was written (new, or `--update`).
    Written,
    /// The plans differ from the snapshot (a unified diff), or there is no snapshot.
    Changed(String),
}

/// Checks (or with `update`, writes) the snapshots of every script; one outcome per script.
pub async fn run(
    runner: &mut SqlRunner,
    options: &PlanCheckOptions,
) -> Result<Vec<(PathBuf, ScriptOutcome)>> {
    runner
        .run(&format!(
            "SET datafusion.execution.target_partitions = {}",
            options.partitions.max(1)
        ))
        .await?;
    let mut outcomes = Vec::new();
    for path in &options.scripts {
        let plans = script_plans(runner, path, &options.params).await?;
        let snapshot = snapshot_path(&options.snapshots, path);
        let outcome = if options.update {
            std::fs::create_dir_all(&options.snapshots).map_err(|e| io(&options.snapshots, e))?;
            std::fs::write(&snapshot, &plans).map_err(|e| io(&snapshot, e))?;
            ScriptOutcome::Written
        } else {
            match std::fs::read_to_string(&snapshot) {
                Ok(old) if old == plans => ScriptOutcome::Unchanged,
                Ok(old) => ScriptOutcome::Changed(
                    similar::TextDiff::from_lines(&old, &plans)
                        .unified_diff()
                        .context_radius(3)
                        .header(&snapshot.display().to_string(), "current plan")
                        .to_string(),
                ),
                Err(_) => ScriptOutcome::Changed(format!(
                    "no snapshot at {}; run with --update to write it",
                    snapshot.display()
                )),
            }
        };
        outcomes.push((path.clone(), outcome));
    }
    Ok(outcomes)
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::new(ErrorKind::IoError, format!("{}: {e}", path.display()))
}

/// `<dir>/<script file name>.plan`.
pub fn snapshot_path(dir: &Path, script: &Path) -> PathBuf {
    let name = script
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "script.sql".into());
    dir.join(format!("{name}.plan"))
}

/// The normalised plans of every query in one script, as the snapshot text.
async fn script_plans(
    runner: &mut SqlRunner,
    path: &Path,
    params: &BTreeMap<String, String>,
) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    let text = script::substitute(&text, params)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut out = format!(
        "-- Physical plans of {name}, written by `deltagres plan-check --update`.\n\
         -- Review a change here like a code change: it moves work between operators.\n"
    );
    for statement in script::split(&text)? {
        let Some(query) = explainable(&statement.sql)? else {
            continue;
        };
        let rows = runner
            .run(&format!("EXPLAIN {query}"))
            .await
            .map_err(|e| {
                Error::new(
                    e.kind,
                    format!("{}:{}: EXPLAIN failed: {}", path.display(), statement.line, e.message),
                )
                .with_hint("plan-check needs the scripts' tables to exist: run the pipeline (or its setup) first")
            })?
            .rows;
        out.push_str(&format!(
            "\n-- line {}: {}\n",
            statement.line,
            first_line(&normalize(&statement.sql))
        ));
        for row in rows {
            if let Some(Some(line)) = row.into_iter().next() {
                out.push_str(&normalize(&line));
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// The query to EXPLAIN for a statement, when it has one.
fn explainable(sql: &str) -> Result<Option<String>> {
    let mut parsed = parse_sql(sql)?;
    if parsed.len() != 1 {
        return Ok(None);
    }
    Ok(match parsed.remove(0) {
        Statement::Sql(s) => match *s {
            ast::Statement::Query(_) => Some(sql.to_string()),
            ast::Statement::Insert(insert) if insert.source.is_some() => Some(sql.to_string()),
            _ => None,
        },
        Statement::CreateTable(create) => create.query.map(|q| q.to_string()),
        Statement::InsertReplaceWhere { query, .. } => Some(query.to_string()),
        _ => None,
    })
}

fn first_line(sql: &str) -> String {
    let line: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > 120 {
        format!("{}...", line.chars().take(117).collect::<String>())
    } else {
        line
    }
}

static FILE_GROUPS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"file_groups=\{[^}]*\}").unwrap_or_else(|e| panic!("{e}")));
static ABSOLUTE_PATH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:file://)?(?:/[\w.=*-]+){2,}/?").unwrap_or_else(|e| panic!("{e}"))
});
static PARQUET_PATH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[\w./=-]*/[\w.=-]+\.parquet").unwrap_or_else(|e| panic!("{e}")));

/// One plan line without what varies between machines and runs (file paths, directories and
/// file lists).
pub fn normalize(line: &str) -> String {
    let line = FILE_GROUPS.replace_all(line, "file_groups={...}");
    let line = PARQUET_PATH.replace_all(&line, "<file>");
    let line = ABSOLUTE_PATH.replace_all(&line, "<path>");
    line.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_paths_and_file_lists() {
        let line = "  DataSourceExec: file_groups={2 groups: [[tmp/x/public/o/part-1.parquet], [tmp/x/part-2.parquet]]}, projection=[cid], file_type=parquet   ";
        assert_eq!(
            normalize(line),
            "  DataSourceExec: file_groups={...}, projection=[cid], file_type=parquet"
        );
    }

    #[test]
    fn explains_queries_and_the_queries_of_writes() {
        assert!(explainable("SELECT 1").unwrap().is_some());
        assert_eq!(
            explainable("CREATE TABLE t AS SELECT 1 AS x").unwrap(),
            Some("SELECT 1 AS x".to_string())
        );
        assert!(explainable("CREATE TABLE t (x INT)").unwrap().is_none());
        assert!(explainable("OPTIMIZE t").unwrap().is_none());
    }
}
