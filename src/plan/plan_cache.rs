//! Reusing a session's physical plans for statements that read no table and call only pure
//! functions: `SELECT 1` (every connection pool's health check), `SELECT version()`, constant
//! expressions and VALUES lists. Planning is most of such a statement's time (DataFusion's SQL
//! planner, ~30 logical and ~20 physical optimizer passes), and its plan can never go stale:
//! it reads nothing but its own text.
//!
//! What makes reuse safe, each checked when a plan is kept:
//! - the logical plan, subqueries included, has no table scan (tables, catalog tables, views
//!   expanded before planning): nothing a write, a DDL or another server changes;
//! - every function is one of DataFusion's own and immutable (`now()`, `random()` and our
//!   catalog functions such as `to_regclass` are never kept), no hints, no parameters;
//! - the physical plan holds only stateless operators (no sort, join or aggregate, whose
//!   dynamic filters a rerun would inherit), and is reset before each rerun;
//! - the key is the statement's text after views and settings were put in, and the session
//!   empties its cache whenever a setting changes (SET, RESET, set_config, DISCARD).
//!
//! A statement that names no relation and calls no setting function is also found by the text
//! the client sent, so its repeats skip parsing and the dialect's rewrites as well.
//!
//! Every query also plans with one copy of the session's DataFusion state, and runs with one
//! task context made from it ([`PlanCache::snapshot`]), kept until the cache is emptied or the
//! session changes its state: copying a state copies every function registry, a large share of
//! a short statement's time.
//!
//! A plan is kept the second time its key is planned: a statement with a constant nobody sends
//! twice (`SELECT 4711`) would otherwise push out the plans that are repeated.
//!
//! `SET deltagres.plan_cache = off` turns it off for a session (to compare, or to rule it out).

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, LazyLock};

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::execution::{SessionState, TaskContext};
use datafusion::logical_expr::{Expr, LogicalPlan, ScalarUDF, Volatility};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;

/// The setting that turns plan reuse off for a session (`off`, `false` or `0`).
pub const PLAN_CACHE_SETTING: &str = "deltagres.plan_cache";

/// Plans kept per session: statements a client repeats are few; a session that sends many
/// different constant statements just starts over.
const MAX_PLANS: usize = 64;

/// One session's reusable plans, by statement text.
#[derive(Default)]
pub struct PlanCache {
    plans: HashMap<String, KeptPlan>,
    /// Query texts as the client sent them, to the key of their plan: for statements whose
    /// text alone decides the plan (see [`reads_no_relation`]), so a repeat skips parsing too.
    texts: HashMap<String, String>,
    /// Parse messages' texts (of statements whose text decides their plan) with the statement
    /// they parsed to and its description, so a client that sends Parse for every execution
    /// (pgbench -M extended, JDBC's unnamed statements) is not parsed and planned twice each time.
    described: HashMap<String, (crate::dialect::Statement, super::Description)>,
    /// The key of the plan the last query ran with (kept or reused).
    last_key: Option<String>,
    /// Hashes of keys planned once and not kept yet (see the module header).
    planned_once: HashSet<u64>,
    hasher: RandomState,
    /// The session's state and the task context made from it (see [`PlanCache::snapshot`]).
    snapshot: Option<(Arc<SessionState>, Arc<TaskContext>)>,
}

/// A physical plan and the task context it runs with (both immutable once made).
#[derive(Clone)]
pub struct KeptPlan {
    /// The plan as first made; reset before every run.
    pub physical: Arc<dyn ExecutionPlan>,
    /// The task context of its first run (settings, functions, the shared memory pool).
    pub task: Arc<TaskContext>,
}

impl PlanCache {
    /// The plan kept for `key`, ready to run again (operator state reset).
    pub fn get(&self, key: &str) -> Option<KeptPlan> {
        let kept = self.plans.get(key)?;
        let physical =
            datafusion::physical_plan::execution_plan::reset_plan_states(kept.physical.clone())
                .ok()?;
        Some(KeptPlan {
            physical,
            task: kept.task.clone(),
        })
    }

    /// The plan kept for the client's text `sql` (see [`PlanCache::remember_text`]).
    pub fn get_by_text(&self, sql: &str) -> Option<KeptPlan> {
        self.get(self.texts.get(sql)?)
    }

    /// Keeps `plan` for `key` when [`reusable`] said so, if `key` was planned before.
    pub fn insert(&mut self, key: String, plan: KeptPlan) {
        if self.planned_once.len() >= MAX_PLANS * 16 {
            self.planned_once.clear();
        }
        if self.planned_once.insert(self.hasher.hash_one(&key)) {
            return;
        }
        if self.plans.len() >= MAX_PLANS {
            self.plans.clear();
            self.texts.clear();
        }
        self.plans.insert(key.clone(), plan);
        self.last_key = Some(key);
    }

    /// The session's DataFusion state to plan a query with, marked as starting now (`now()`
    /// is the statement's time), and the task context to run it with: copied from `ctx` (the
    /// session's own context, never a statement's) once, then the same until
    /// [`PlanCache::clear`] or [`PlanCache::forget_snapshot`].
    pub fn snapshot(&mut self, ctx: &SessionContext) -> (Arc<SessionState>, Arc<TaskContext>) {
        let (state, task) = self.snapshot.get_or_insert_with(|| {
            let state = ctx.state();
            let task = Arc::new(TaskContext::from(&state));
            (Arc::new(state), task)
        });
        // Unshared once the last statement's planning ended: no copy.
        Arc::make_mut(state).mark_start_execution();
        (state.clone(), task.clone())
    }

    /// Forgets the copy of the session's state: the session changed it (its default schema,
    /// time zone or the settings `pg_settings` shows).
    pub fn forget_snapshot(&mut self) {
        self.snapshot = None;
    }

    /// Notes that the last query ran with the plan kept for `key`.
    pub fn used(&mut self, key: String) {
        self.last_key = Some(key);
    }

    /// Forgets which plan the last query used (a new statement starts).
    pub fn forget_last(&mut self) {
        self.last_key = None;
    }

    /// Lets the client's text `sql` find the plan the last query used; only for a statement
    /// whose plan its text alone decides.
    pub fn remember_text(&mut self, sql: &str) {
        if let Some(key) = self.last_key.take()
            && self.plans.contains_key(&key)
        {
            self.texts.insert(sql.to_string(), key);
        }
    }

    /// The statement and description a Parse message of `sql` had (see the field).
    pub fn described(&self, sql: &str) -> Option<(crate::dialect::Statement, super::Description)> {
        self.described.get(sql).cloned()
    }

    /// Keeps what `sql` parsed to and how it was described; only for a statement that names no
    /// relation and calls no setting function.
    pub fn keep_described(
        &mut self,
        sql: &str,
        statement: crate::dialect::Statement,
        description: super::Description,
    ) {
        if self.described.len() >= MAX_PLANS {
            self.described.clear();
        }
        self.described
            .insert(sql.to_string(), (statement, description));
    }

    /// Forgets every plan and the copy of the session's state (a setting changed, or a
    /// statement other than a query runs: it may change the state).
    pub fn clear(&mut self) {
        self.plans.clear();
        self.texts.clear();
        self.described.clear();
        self.planned_once.clear();
        self.last_key = None;
        self.snapshot = None;
    }

    /// How many plans are kept (for tests of the invalidation).
    pub fn len(&self) -> usize {
        self.plans.len()
    }

    /// True when no plan is kept.
    pub fn is_empty(&self) -> bool {
        self.plans.is_empty()
    }
}

/// Whether a statement planned as `logical` and `physical` may be kept (see the module header).
pub fn reusable(logical: &LogicalPlan, physical: &Arc<dyn ExecutionPlan>) -> bool {
    !super::planned::is_command(logical)
        && pure_logical(logical)
        && stateless_physical(physical.as_ref())
}

/// Plan reuse is on unless the session set `deltagres.plan_cache` off.
pub fn enabled(settings: &crate::session::Settings) -> bool {
    settings
        .get(PLAN_CACHE_SETTING)
        .map(|v| !matches!(v.to_ascii_lowercase().as_str(), "off" | "false" | "0"))
        .unwrap_or(true)
}

/// Whether a query names no relation at all (no table, view, catalog table or table
/// function): its plan then follows from its text alone, before views are expanded and
/// settings put in (the caller also checks that no setting function was inlined).
pub fn reads_no_relation(query: &sqlparser::ast::Statement) -> bool {
    sqlparser::ast::visit_relations(query, |_| std::ops::ControlFlow::Break(())).is_continue()
}

fn pure_logical(plan: &LogicalPlan) -> bool {
    let mut pure = true;
    let _ = plan.apply_with_subqueries(|node| {
        let node_ok = match node {
            LogicalPlan::TableScan(_)
            | LogicalPlan::Extension(_)
            | LogicalPlan::RecursiveQuery(_)
            | LogicalPlan::Dml(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Statement(_)
            | LogicalPlan::Copy(_) => false,
            other => {
                let mut exprs_ok = true;
                let _ = other.apply_expressions(|e| {
                    exprs_ok &= pure_expr(e);
                    Ok(if exprs_ok {
                        TreeNodeRecursion::Continue
                    } else {
                        TreeNodeRecursion::Stop
                    })
                });
                exprs_ok
            }
        };
        pure &= node_ok;
        Ok(if pure {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    pure
}

fn pure_expr(expr: &Expr) -> bool {
    let mut pure = true;
    let _ = expr.apply(|e| {
        let ok = match e {
            Expr::ScalarFunction(f) => {
                f.func.signature().volatility == Volatility::Immutable
                    && datafusion_function(&f.func)
            }
            Expr::AggregateFunction(_) | Expr::WindowFunction(_) => false,
            Expr::Placeholder(_) | Expr::OuterReferenceColumn(..) => false,
            _ => true,
        };
        pure &= ok;
        Ok(if pure {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    pure
}

/// DataFusion's own scalar functions, by identity: a function of the same name we registered
/// for PostgreSQL's semantics (or one that reads the catalog or the session) is another object.
static DATAFUSION_FUNCTIONS: LazyLock<HashMap<String, Arc<ScalarUDF>>> = LazyLock::new(|| {
    datafusion::functions::all_default_functions()
        .into_iter()
        .map(|f| (f.name().to_string(), f))
        .collect()
});

fn datafusion_function(f: &Arc<ScalarUDF>) -> bool {
    DATAFUSION_FUNCTIONS
        .get(f.name())
        .is_some_and(|default| Arc::ptr_eq(default, f))
}

/// Operators with no state a rerun could inherit.
fn stateless_physical(plan: &dyn ExecutionPlan) -> bool {
    const STATELESS: &[&str] = &[
        "ProjectionExec",
        "PlaceholderRowExec",
        "EmptyExec",
        "FilterExec",
        "CoalesceBatchesExec",
        "CoalescePartitionsExec",
        "GlobalLimitExec",
        "LocalLimitExec",
        "UnionExec",
        "DataSourceExec",
    ];
    STATELESS.contains(&plan.name())
        && plan
            .children()
            .into_iter()
            .all(|child| stateless_physical(child.as_ref()))
}
