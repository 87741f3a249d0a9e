//! The statement registry: what runs now and what ran recently on this server, for the web
//! console (`console/`) and `/metrics`. The wire layer registers each statement as it starts and
//! hands the returned [`Tracker`] to the statement's row stream, which reports rows and the end;
//! the console reads snapshots and may cancel a running statement (as `pg_cancel_backend`).
//!
//! Nothing here touches data: it is bookkeeping kept in memory, bounded by
//! `http.recent_statements` finished entries.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use futures::future::BoxFuture;
use parking_lot::Mutex;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Cancels whatever the connection is running now (its CancelRequest path).
pub type CancelFn = Arc<dyn Fn() -> BoxFuture<'static, bool> + Send + Sync>;

/// Who runs statements on one connection.
#[derive(Clone)]
pub struct ConnectionInfo {
    /// The backend process id the client was given (what `pg_cancel_backend` takes).
    pub pid: i32,
    /// The user the connection logged in as.
    pub user: String,
    /// The client's `application_name`.
    pub application_name: String,
    /// The client's address.
    pub client_addr: String,
    /// Stops the connection's running statement.
    pub cancel: Option<CancelFn>,
}

impl std::fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionInfo")
            .field("pid", &self.pid)
            .field("user", &self.user)
            .field("application_name", &self.application_name)
            .field("client_addr", &self.client_addr)
            .finish()
    }
}

/// How a statement ended, or that it has not yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Planning, executing or streaming rows.
    Running,
    /// Finished without error.
    Done,
    /// Failed with this SQLSTATE and message.
    Failed {
        /// The five-character SQLSTATE.
        sqlstate: String,
        /// The message the client got.
        message: String,
    },
}

impl State {
    /// A word for the page and the metrics.
    pub fn label(&self) -> &'static str {
        match self {
            State::Running => "running",
            State::Done => "done",
            State::Failed { .. } => "failed",
        }
    }
}

/// One statement as the console shows it.
#[derive(Debug, Clone)]
pub struct StatementRecord {
    /// Unique on this server, increasing.
    pub id: u64,
    /// The connection it ran on.
    pub connection: Arc<ConnectionInfo>,
    /// Its text.
    pub sql: String,
    /// The leading keyword (`SELECT`, `INSERT`, ...), for grouping.
    pub kind: String,
    /// When it started (wall clock).
    pub started: SystemTime,
    /// Time from start to end (or to now while running).
    pub duration: Duration,
    /// Rows sent to the client so far.
    pub rows: u64,
    /// Where it is.
    pub state: State,
    /// The executed physical plan with its metrics, as EXPLAIN (ANALYZE, FORMAT JSON)'s
    /// document, once a query's last row went out (kept only while the console runs).
    pub plan: Option<String>,
    /// The statement's hints and what became of each (see [`crate::output::HintReport`]).
    pub hints: Vec<crate::output::HintReport>,
}

struct Running {
    record: StatementRecord,
    since: Instant,
    /// Tables the statement writes, for the per-table write counters.
    writes: Vec<String>,
}

/// Labels of `deltagres_statements_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// The statement's leading keyword.
    pub kind: String,
    /// `ok`, or the SQLSTATE class of the failure (`23`, `40`, `57`, ...).
    pub outcome: String,
}

/// Labels of `deltagres_table_writes_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TableWriteLabels {
    /// The table as the statement named it.
    pub table: String,
    /// `committed`, `conflict` (40001: another writer won) or `failed`.
    pub outcome: String,
}

/// What `/metrics` exports about statements and connections (prometheus-client metrics, so the
/// text format is the crate's).
pub struct Metrics {
    /// Finished statements by kind and outcome.
    pub statements: Family<OutcomeLabels, Counter>,
    /// Statement durations in seconds.
    pub latency: Histogram,
    /// Rows sent to clients.
    pub rows: Counter,
    /// Open client connections.
    pub connections: Gauge,
    /// Statements running now.
    pub running: Gauge,
    /// Statements that wrote a table, by table and outcome (commits and 40001 conflicts).
    pub table_writes: Family<TableWriteLabels, Counter>,
    /// Bytes queries spilled to disk past the memory pool.
    pub spilled_bytes: Counter,
}

/// Statements faster than this keep no plan report (see [`Tracker::wants_plan`]).
pub const PLAN_REPORT_MIN: Duration = Duration::from_millis(1);

/// Upper bounds (seconds) of the latency histogram's buckets.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0,
];

impl Metrics {
    fn new() -> Self {
        Self {
            statements: Family::default(),
            latency: Histogram::new(LATENCY_BUCKETS),
            rows: Counter::default(),
            connections: Gauge::default(),
            running: Gauge::default(),
            table_writes: Family::default(),
            spilled_bytes: Counter::default(),
        }
    }

    /// Adds these metrics to a registry (the console's, which adds the engine's own).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "deltagres_statements",
            "Statements finished, by leading keyword and outcome (ok or SQLSTATE class)",
            self.statements.clone(),
        );
        registry.register(
            "deltagres_statement_duration_seconds",
            "Statement duration from start to the last row sent",
            self.latency.clone(),
        );
        registry.register(
            "deltagres_rows_sent",
            "Rows sent to clients",
            self.rows.clone(),
        );
        registry.register(
            "deltagres_connections",
            "Client connections open",
            self.connections.clone(),
        );
        registry.register(
            "deltagres_statements_running",
            "Statements running now",
            self.running.clone(),
        );
        registry.register(
            "deltagres_table_writes",
            "Statements that wrote a table, by table and outcome (committed, conflict = 40001, failed)",
            self.table_writes.clone(),
        );
        registry.register(
            "deltagres_spilled_bytes",
            "Bytes queries spilled to disk past the engine's memory pool",
            self.spilled_bytes.clone(),
        );
    }
}

/// The registry (see the module header).
pub struct Activity {
    next_id: AtomicU64,
    keep: usize,
    keep_plans: bool,
    running: Mutex<BTreeMap<u64, Running>>,
    recent: Mutex<VecDeque<StatementRecord>>,
    metrics: Metrics,
}

impl Activity {
    /// A registry keeping the last `keep` finished statements, with their executed plans when
    /// `keep_plans` (the console is on to show them).
    pub fn new(keep: usize, keep_plans: bool) -> Arc<Self> {
        Arc::new(Self {
            next_id: AtomicU64::new(1),
            keep,
            keep_plans,
            running: Mutex::new(BTreeMap::new()),
            recent: Mutex::new(VecDeque::with_capacity(keep.min(1024))),
            metrics: Metrics::new(),
        })
    }

    /// Registers a statement that starts now on `connection` and writes the tables `writes`.
    pub fn start(
        self: &Arc<Self>,
        connection: Arc<ConnectionInfo>,
        sql: &str,
        writes: Vec<String>,
    ) -> Tracker {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let kind = sql
            .split(|c: char| !c.is_ascii_alphabetic())
            .find(|w| !w.is_empty())
            .unwrap_or("")
            .to_ascii_uppercase();
        let record = StatementRecord {
            id,
            connection,
            sql: sql.to_string(),
            kind,
            started: SystemTime::now(),
            duration: Duration::ZERO,
            rows: 0,
            state: State::Running,
            plan: None,
            hints: Vec::new(),
        };
        self.metrics.running.inc();
        self.running.lock().insert(
            id,
            Running {
                record,
                since: Instant::now(),
                writes,
            },
        );
        Tracker {
            activity: self.clone(),
            id,
            finished: false,
        }
    }

    /// Running statements (oldest first), then finished ones (newest first).
    pub fn snapshot(&self) -> Vec<StatementRecord> {
        let mut out: Vec<StatementRecord> = self
            .running
            .lock()
            .values()
            .map(|r| {
                let mut record = r.record.clone();
                record.duration = r.since.elapsed();
                record
            })
            .collect();
        out.extend(self.recent.lock().iter().rev().cloned());
        out
    }

    /// One statement, running or recent.
    pub fn get(&self, id: u64) -> Option<StatementRecord> {
        if let Some(r) = self.running.lock().get(&id) {
            let mut record = r.record.clone();
            record.duration = r.since.elapsed();
            return Some(record);
        }
        self.recent.lock().iter().find(|r| r.id == id).cloned()
    }

    /// Cancels statement `id` if it is still running; whether a cancel was sent.
    pub async fn cancel(&self, id: u64) -> bool {
        let cancel = self
            .running
            .lock()
            .get(&id)
            .and_then(|r| r.record.connection.cancel.clone());
        match cancel {
            Some(cancel) => cancel().await,
            None => false,
        }
    }

    /// The metrics `/metrics` exports.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Statements running now.
    pub fn running_count(&self) -> usize {
        self.running.lock().len()
    }

    /// Marks a connection open until the returned guard drops.
    pub fn connection_opened(self: &Arc<Self>) -> ConnectionGuard {
        self.metrics.connections.inc();
        ConnectionGuard(self.clone())
    }

    fn add_rows(&self, id: u64, rows: u64) {
        if let Some(r) = self.running.lock().get_mut(&id) {
            r.record.rows += rows;
        }
    }

    fn set_plan(&self, id: u64, plan: String) {
        if let Some(r) = self.running.lock().get_mut(&id) {
            r.record.plan = Some(plan);
        }
    }

    fn finish(&self, id: u64, state: State) {
        let Some(running) = self.running.lock().remove(&id) else {
            return;
        };
        let mut record = running.record;
        record.duration = running.since.elapsed();
        record.state = state;
        let write_outcome = match &record.state {
            State::Failed { sqlstate, .. } if sqlstate == "40001" => "conflict",
            State::Failed { .. } => "failed",
            _ => "committed",
        };
        for table in running.writes {
            self.metrics
                .table_writes
                .get_or_create(&TableWriteLabels {
                    table,
                    outcome: write_outcome.to_string(),
                })
                .inc();
        }
        self.metrics.running.dec();
        let outcome = match &record.state {
            State::Failed { sqlstate, .. } => sqlstate.get(..2).unwrap_or("XX").to_string(),
            _ => "ok".to_string(),
        };
        self.metrics
            .statements
            .get_or_create(&OutcomeLabels {
                kind: record.kind.clone(),
                outcome,
            })
            .inc();
        self.metrics.latency.observe(record.duration.as_secs_f64());
        self.metrics.rows.inc_by(record.rows);
        if self.keep == 0 {
            return;
        }
        let mut recent = self.recent.lock();
        while recent.len() >= self.keep {
            recent.pop_front();
        }
        recent.push_back(record);
    }
}

/// Keeps a connection counted as open.
pub struct ConnectionGuard(Arc<Activity>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.metrics.connections.dec();
    }
}

/// A running statement's handle: rows and the end are reported through it. Dropped without an
/// end (the client went away mid-stream), the statement is recorded as canceled.
pub struct Tracker {
    activity: Arc<Activity>,
    id: u64,
    finished: bool,
}

impl Tracker {
    /// The statement's id in the registry.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// `n` more rows went to the client.
    pub fn rows(&self, n: u64) {
        self.activity.add_rows(self.id, n);
    }

    /// Bytes the statement's query spilled to disk.
    pub fn spilled(&self, bytes: u64) {
        self.activity.metrics.spilled_bytes.inc_by(bytes);
    }

    /// Whether this statement's plan is worth keeping: the registry keeps plans, and the
    /// statement ran at least [`PLAN_REPORT_MIN`] (a sub-millisecond query's plan is a couple
    /// of trivial operators, and writing its report would cost `SELECT 1` a tenth of its time).
    pub fn wants_plan(&self) -> bool {
        self.activity.keep_plans
            && self
                .activity
                .running
                .lock()
                .get(&self.id)
                .is_some_and(|r| r.since.elapsed() >= PLAN_REPORT_MIN)
    }

    /// The statement's executed plan report (see [`StatementRecord::plan`]).
    pub fn plan(&self, plan: String) {
        self.activity.set_plan(self.id, plan);
    }

    /// The statement's hints and whether each shaped its plan (see [`StatementRecord::hints`]).
    pub fn hints(&self, hints: Vec<crate::output::HintReport>) {
        if let Some(running) = self.activity.running.lock().get_mut(&self.id) {
            running.record.hints = hints;
        }
    }

    /// The statement finished without error.
    pub fn done(mut self) {
        self.finished = true;
        self.activity.finish(self.id, State::Done);
    }

    /// The statement failed.
    pub fn failed(mut self, sqlstate: &str, message: &str) {
        self.finished = true;
        self.activity.finish(
            self.id,
            State::Failed {
                sqlstate: sqlstate.to_string(),
                message: message.to_string(),
            },
        );
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        if !self.finished {
            self.activity.finish(
                self.id,
                State::Failed {
                    sqlstate: "57014".into(),
                    message: "the client stopped reading the result".into(),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Arc<ConnectionInfo> {
        Arc::new(ConnectionInfo {
            pid: 1,
            user: "alice".into(),
            application_name: "psql".into(),
            client_addr: "127.0.0.1:5000".into(),
            cancel: None,
        })
    }

    #[test]
    fn statements_move_from_running_to_recent_and_are_counted() {
        let activity = Activity::new(2, false);
        let a = activity.start(connection(), "select 1", Vec::new());
        let b = activity.start(connection(), "INSERT INTO t VALUES (1)", vec!["t".into()]);
        assert_eq!(activity.running_count(), 2);
        a.rows(3);
        a.done();
        b.failed("23502", "null value");
        let c = activity.start(connection(), "  (SELECT 2)", Vec::new());
        drop(c);
        let all = activity.snapshot();
        // Only the last two finished are kept, newest first.
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].kind, "SELECT");
        assert_eq!(all[0].state.label(), "failed");
        assert_eq!(all[1].kind, "INSERT");
        let count = |kind: &str, outcome: &str| {
            activity
                .metrics()
                .statements
                .get_or_create(&OutcomeLabels {
                    kind: kind.into(),
                    outcome: outcome.into(),
                })
                .get()
        };
        assert_eq!(count("SELECT", "ok"), 1);
        assert_eq!(count("INSERT", "23"), 1);
        assert_eq!(count("SELECT", "57"), 1);
        assert_eq!(activity.metrics().rows.get(), 3);
        assert_eq!(activity.metrics().running.get(), 0);
        let writes = activity
            .metrics()
            .table_writes
            .get_or_create(&TableWriteLabels {
                table: "t".into(),
                outcome: "failed".into(),
            })
            .get();
        assert_eq!(writes, 1);
    }
}
