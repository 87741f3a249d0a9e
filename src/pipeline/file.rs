//! The pipeline file (TOML): tasks and their SQL files, dependencies, parameters, retries,
//! timeouts and hooks.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Result};

/// A parsed pipeline file, with task files resolved against the file's folder.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The pipeline's name (recorded with each run).
    pub name: String,
    /// Default parameter values.
    pub params: BTreeMap<String, String>,
    /// Tasks in file order.
    pub tasks: Vec<Task>,
    /// What to run when a run ends.
    pub hooks: Hooks,
}

/// One task: a SQL file run as one session, statement by statement.
#[derive(Debug, Clone)]
pub struct Task {
    /// Unique name.
    pub name: String,
    /// The SQL script.
    pub file: PathBuf,
    /// Tasks that must succeed first.
    pub depends_on: Vec<String>,
    /// Attempts after the first failure.
    pub retries: u32,
    /// Wait before the first retry; doubled after each failed attempt.
    pub retry_backoff_secs: f64,
    /// Longest an attempt may take.
    pub timeout_secs: f64,
    /// Whether an attempt that timed out is retried (`retry_on_timeout`, default false: a
    /// statement that runs too long usually runs too long again).
    pub retry_on_timeout: bool,
}

/// A hook: a shell command (the run's JSON on stdin) or a URL (the JSON posted).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Hook {
    /// `sh -c` command.
    pub command: Option<String>,
    /// URL to POST the JSON to.
    pub url: Option<String>,
}

/// Hooks of a pipeline.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hooks {
    /// After a successful run.
    pub on_success: Option<Hook>,
    /// After a failed run.
    pub on_failure: Option<Hook>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    pipeline: Option<RawHeader>,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    hooks: Hooks,
    #[serde(default, rename = "task")]
    tasks: Vec<RawTask>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    retries: Option<u32>,
    retry_backoff_secs: Option<f64>,
    timeout_secs: Option<f64>,
    retry_on_timeout: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: String,
    file: PathBuf,
    #[serde(default)]
    depends_on: Vec<String>,
    retries: Option<u32>,
    retry_backoff_secs: Option<f64>,
    timeout_secs: Option<f64>,
    retry_on_timeout: Option<bool>,
}

fn invalid(message: String) -> Error {
    Error::new(ErrorKind::InvalidParameterValue, message)
}

impl Pipeline {
    /// Reads and checks a pipeline file (names, dependencies, cycles; not the SQL files).
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(ErrorKind::IoError, format!("{}: {e}", path.display())))?;
        let raw: RawFile =
            toml::from_str(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let params = raw
            .params
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    toml::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, v)
            })
            .collect();
        let d = raw.defaults;
        let tasks = raw
            .tasks
            .into_iter()
            .map(|t| Task {
                file: dir.join(&t.file),
                name: t.name,
                depends_on: t.depends_on,
                retries: t.retries.or(d.retries).unwrap_or(0),
                retry_backoff_secs: t.retry_backoff_secs.or(d.retry_backoff_secs).unwrap_or(1.0),
                timeout_secs: t.timeout_secs.or(d.timeout_secs).unwrap_or(3600.0),
                retry_on_timeout: t.retry_on_timeout.or(d.retry_on_timeout).unwrap_or(false),
            })
            .collect();
        let pipeline = Pipeline {
            name: raw
                .pipeline
                .and_then(|h| h.name)
                .unwrap_or_else(|| "pipeline".into()),
            params,
            tasks,
            hooks: raw.hooks,
        };
        for hook in [&pipeline.hooks.on_success, &pipeline.hooks.on_failure]
            .into_iter()
            .flatten()
        {
            if hook.command.is_some() == hook.url.is_some() {
                return Err(invalid(
                    "a hook takes either command = \"...\" or url = \"...\"".into(),
                ));
            }
        }
        pipeline.order()?;
        Ok(pipeline)
    }

    /// The task called `name`.
    pub fn task(&self, name: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.name == name)
    }

    /// Task names in an order that respects dependencies; errors on unknown names and cycles.
    pub fn order(&self) -> Result<Vec<String>> {
        let mut seen = BTreeSet::new();
        for t in &self.tasks {
            if !seen.insert(t.name.as_str()) {
                return Err(invalid(format!("task {} is defined twice", t.name)));
            }
        }
        for t in &self.tasks {
            for d in &t.depends_on {
                if !seen.contains(d.as_str()) {
                    return Err(invalid(format!(
                        "task {} depends on unknown task {d}",
                        t.name
                    )));
                }
            }
        }
        let mut done: Vec<String> = Vec::new();
        while done.len() < self.tasks.len() {
            let next = self
                .tasks
                .iter()
                .find(|t| !done.contains(&t.name) && t.depends_on.iter().all(|d| done.contains(d)));
            match next {
                Some(t) => done.push(t.name.clone()),
                None => {
                    let stuck: Vec<&str> = self
                        .tasks
                        .iter()
                        .filter(|t| !done.contains(&t.name))
                        .map(|t| t.name.as_str())
                        .collect();
                    return Err(invalid(format!(
                        "the dependencies of tasks {} form a cycle",
                        stuck.join(", ")
                    )));
                }
            }
        }
        Ok(done)
    }

    /// `name` and every task that depends on it, directly or not (what `--from` reruns).
    pub fn downstream_of(&self, name: &str) -> BTreeSet<String> {
        let mut set = BTreeSet::from([name.to_string()]);
        loop {
            let before = set.len();
            for t in &self.tasks {
                if t.depends_on.iter().any(|d| set.contains(d)) {
                    set.insert(t.name.clone());
                }
            }
            if set.len() == before {
                return set;
            }
        }
    }

    /// Problems a run would meet: missing SQL files and parameters without a value.
    pub fn problems(&self, params: &BTreeMap<String, String>) -> Vec<String> {
        let mut problems = Vec::new();
        for t in &self.tasks {
            match std::fs::read_to_string(&t.file) {
                Err(e) => problems.push(format!("task {}: {}: {e}", t.name, t.file.display())),
                Ok(text) => {
                    for p in crate::script::parameter_names(&text) {
                        if !params.contains_key(&p) {
                            problems.push(format!(
                                "task {}: parameter ${{{p}}} has no value (set it in [params] or pass --param {p}=...)",
                                t.name
                            ));
                        }
                    }
                    if let Err(e) = crate::script::split(&text) {
                        problems.push(format!("task {}: {}", t.name, e.message));
                    }
                }
            }
        }
        problems
    }

    /// The DAG as text: each task with its file, dependencies, retries and timeout.
    pub fn show(&self) -> Result<String> {
        let mut out = format!("pipeline {}\n", self.name);
        for name in self.order()? {
            let Some(t) = self.task(&name) else { continue };
            let after = if t.depends_on.is_empty() {
                "(start)".to_string()
            } else {
                format!("after {}", t.depends_on.join(", "))
            };
            out.push_str(&format!(
                "  {:<16} {:<24} {:<32} retries={} timeout={}s\n",
                t.name,
                t.file
                    .file_name()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_default(),
                after,
                t.retries,
                t.timeout_secs
            ));
        }
        if !self.params.is_empty() {
            out.push_str("params:\n");
            for (k, v) in &self.params {
                out.push_str(&format!("  {k} = {v}\n"));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pipeline(tasks: &str) -> Result<Pipeline> {
        let dir = std::env::temp_dir().join(format!("deltagres-pipeline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("p{}.toml", tasks.len()));
        std::fs::write(&path, tasks).unwrap();
        Pipeline::load(&path)
    }

    #[test]
    fn orders_tasks_and_finds_cycles_and_unknown_dependencies() {
        let p = pipeline(
            "[[task]]\nname='b'\nfile='b.sql'\ndepends_on=['a']\n[[task]]\nname='a'\nfile='a.sql'\n",
        )
        .unwrap();
        assert_eq!(p.order().unwrap(), vec!["a", "b"]);
        assert_eq!(p.downstream_of("a").len(), 2);
        let cycle = pipeline(
            "[[task]]\nname='a'\nfile='a.sql'\ndepends_on=['b']\n[[task]]\nname='b'\nfile='b.sql'\ndepends_on=['a']\n",
        )
        .unwrap_err();
        assert!(cycle.message.contains("cycle"), "{}", cycle.message);
        let unknown = pipeline("[[task]]\nname='a'\nfile='a.sql'\ndepends_on=['x']\n").unwrap_err();
        assert!(
            unknown.message.contains("unknown task x"),
            "{}",
            unknown.message
        );
    }
}
