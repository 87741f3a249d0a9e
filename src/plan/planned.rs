//! Planning a SQL statement with DataFusion, hints included.
//!
//! Every path that turns a query into rows (SELECT, INSERT ... SELECT, CTAS, REPLACE WHERE,
//! MERGE sources, EXPLAIN) plans through [`plan_statement`], so hints work the same everywhere.

use std::sync::Arc;

use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList,
    MemorySchemaProvider,
};
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use sqlparser::ast;

use super::hints::{self, HintEnv, HintOutcome};
use crate::error::Result;
use crate::output::{Notice, Notices};
use crate::session::Settings;

/// A statement's logical plan with its hints applied.
pub struct Planned {
    /// The plan to execute (optimized and rewritten when the statement had hints).
    pub plan: LogicalPlan,
    /// The session state the plan was made with, reused for physical planning (cloning a
    /// state copies every function registry: a large share of a short query's time).
    state: Arc<datafusion::execution::SessionState>,
    /// The task context to run with when the session already had one for this state.
    task: Option<Arc<datafusion::execution::TaskContext>>,
    outcomes: Vec<Arc<HintOutcome>>,
    warnings: Vec<String>,
}

impl Planned {
    /// Sends a WARNING for each hint that was unknown or could not be used. Join strategy hints
    /// are only settled by physical planning, so call this after it.
    pub fn report(&self, notices: &mut Notices) {
        for warning in &self.warnings {
            notices.push(Notice::warning("01000", warning.clone()));
        }
        for outcome in &self.outcomes {
            if let Err(why) = outcome.result() {
                notices.push(Notice::warning(
                    "01000",
                    format!("hint {} was not applied: {why}", outcome.hint),
                ));
            }
        }
    }

    /// Each hint of the statement with what became of it (after physical planning, which settles
    /// the join hints), for the console's plan page; unknown or unusable hints as not applied.
    pub fn hint_reports(&self) -> Vec<crate::output::HintReport> {
        let outcomes = self.outcomes.iter().map(|o| {
            let (applied, detail) = match o.result() {
                Ok(how) => (true, how),
                Err(why) => (false, why),
            };
            crate::output::HintReport {
                hint: o.hint.clone(),
                applied,
                detail,
            }
        });
        let warnings = self.warnings.iter().map(|w| crate::output::HintReport {
            hint: w.clone(),
            applied: false,
            detail: "not used".into(),
        });
        outcomes.chain(warnings).collect()
    }

    /// The plan without hint markers (for planners other than ours); join strategy hints are
    /// recorded as not applied, for `why`.
    pub fn without_join_markers(mut self, why: &str) -> Self {
        self.plan = hints::strip_markers(self.plan, why);
        self
    }

    /// The physical plan (which settles the join hints, then reported) and the task context to
    /// run it with.
    pub async fn physical(
        &self,
        ctx: &SessionContext,
        notices: &mut Notices,
    ) -> Result<(
        Arc<dyn datafusion::physical_plan::ExecutionPlan>,
        Arc<datafusion::execution::TaskContext>,
    )> {
        if matches!(self.plan, LogicalPlan::Ddl(_) | LogicalPlan::Statement(_)) {
            // DataFusion runs these itself (SET, PREPARE, its own DDL).
            let df = ctx.execute_logical_plan(self.plan.clone()).await?;
            let task = Arc::new(df.task_ctx());
            let physical = df.create_physical_plan().await?;
            self.report(notices);
            return Ok((physical, task));
        }
        let task = match &self.task {
            Some(task) => task.clone(),
            None => Arc::new(datafusion::execution::TaskContext::from(
                self.state.as_ref(),
            )),
        };
        let physical = self.state.create_physical_plan(&self.plan).await?;
        self.report(notices);
        Ok((physical, task))
    }

    /// True when the statement had no hints (nor unknown ones): its plan is DataFusion's alone.
    pub fn without_hints(&self) -> bool {
        self.outcomes.is_empty() && self.warnings.is_empty()
    }

    /// One line per hint saying what it did (for EXPLAIN VERBOSE and plan snapshots).
    pub fn hint_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .outcomes
            .iter()
            .map(|o| match o.result() {
                Ok(how) => format!("{}: applied: {how}", o.hint),
                Err(why) => format!("{}: not applied: {why}", o.hint),
            })
            .collect();
        lines.extend(self.warnings.iter().cloned());
        lines
    }
}

/// DataFusion's logical plan of `statement`, with PostgreSQL's functions in FROM and
/// set-returning functions in select lists first put in forms DataFusion plans.
pub async fn logical_plan(
    state: &datafusion::execution::SessionState,
    mut statement: ast::Statement,
) -> Result<LogicalPlan> {
    // DataFusion's planner drops `VERSION AS OF`: a clause still here would read the latest data.
    if super::timetravel::has_versions(&statement) {
        return Err(crate::error::Error::internal(
            "a time-travel reference reached the planner unresolved",
        ));
    }
    let functions = state.table_functions();
    super::set_functions::rewrite(&mut statement, &|name| functions.contains_key(name));
    // A second attempt when DataFusion's names of two expressions collide, or when a
    // relation's name is used as a value (a whole-row reference).
    let retry = super::distinct_cast_names::retry_copy(&statement);
    let whole_rows = super::whole_rows::candidate(&statement).then(|| statement.clone());
    match state
        .statement_to_plan(DfStatement::Statement(Box::new(statement)))
        .await
    {
        Err(error) if super::distinct_cast_names::is_name_collision(&error) => match retry {
            Some(retry) => Ok(state
                .statement_to_plan(DfStatement::Statement(Box::new(retry)))
                .await?),
            None => Err(error.into()),
        },
        Err(error) => {
            let rewritten = match (super::whole_rows::missing_column(&error), whole_rows) {
                (Some(name), Some(original)) => {
                    super::whole_rows::rewrite(state, &original, &name).await
                }
                _ => None,
            };
            match rewritten {
                Some(rewritten) => Ok(state
                    .statement_to_plan(DfStatement::Statement(Box::new(rewritten)))
                    .await?),
                None => Err(error.into()),
            }
        }
        planned => Ok(planned?),
    }
}

/// Plans `statement` in `ctx`, applying its hints.
pub async fn plan_statement(
    ctx: &SessionContext,
    settings: &Settings,
    statement: ast::Statement,
) -> Result<Planned> {
    plan_statement_in(Arc::new(ctx.state()), None, settings, statement).await
}

/// [`plan_statement`] with a state (and the task context made from it) the session kept
/// (see `PlanCache::snapshot`).
pub async fn plan_statement_in(
    state: Arc<datafusion::execution::SessionState>,
    task: Option<Arc<datafusion::execution::TaskContext>>,
    settings: &Settings,
    statement: ast::Statement,
) -> Result<Planned> {
    let found = hints::collect(&statement);
    let plan = logical_plan(&state, statement).await?;
    let plan = signed_result_types(plan)?;
    if found.hints.is_empty() {
        return Ok(Planned {
            plan,
            state,
            task,
            outcomes: Vec::new(),
            warnings: found.warnings,
        });
    }
    // Hints act on joins as the optimizer leaves them (equality keys extracted, filters pushed).
    let optimized = state.optimize(&plan)?;
    let env = HintEnv {
        state: &state,
        salt_buckets: settings
            .get(hints::SALT_BUCKETS_SETTING)
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|n| *n > 0),
    };
    let (plan, outcomes) = hints::apply(&env, optimized, &found).await?;
    Ok(Planned {
        plan,
        state,
        task,
        outcomes,
        warnings: found.warnings,
    })
}

/// Whether a plan is a command (a write, DDL, EXPLAIN, COPY, ...) rather than a query's rows.
pub fn is_command(plan: &LogicalPlan) -> bool {
    matches!(
        plan,
        LogicalPlan::Dml(_)
            | LogicalPlan::Ddl(_)
            | LogicalPlan::Statement(_)
            | LogicalPlan::Explain(_)
            | LogicalPlan::Analyze(_)
            | LogicalPlan::Copy(_)
            | LogicalPlan::DescribeTable(_)
    )
}

/// Results with unsigned integer columns (`row_number()`, `rank()`, unsigned sources) as the
/// signed types PostgreSQL has: `row_number()` is a bigint there, and a numeric on the wire (what
/// an unsigned 64-bit column would otherwise be) breaks clients that expect one. Delta has no
/// unsigned types either. Writes and DDL pass through.
pub fn signed_result_types(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::arrow::datatypes::DataType;
    if is_command(&plan) {
        return Ok(plan);
    }
    let signed = |t: &DataType| match t {
        DataType::UInt8 => Some(DataType::Int16),
        DataType::UInt16 => Some(DataType::Int32),
        DataType::UInt32 | DataType::UInt64 => Some(DataType::Int64),
        _ => None,
    };
    if !plan
        .schema()
        .fields()
        .iter()
        .any(|f| signed(f.data_type()).is_some())
    {
        return Ok(plan);
    }
    let exprs =
        plan.schema()
            .iter()
            .map(|(qualifier, field)| {
                let column = datafusion::logical_expr::Expr::Column(
                    datafusion::common::Column::new(qualifier.cloned(), field.name()),
                );
                match signed(field.data_type()) {
                    Some(to) => datafusion::logical_expr::cast(column, to)
                        .alias_qualified(qualifier.cloned(), field.name()),
                    None => column,
                }
            })
            .collect::<Vec<_>>();
    Ok(datafusion::logical_expr::LogicalPlanBuilder::from(plan)
        .project(exprs)?
        .build()?)
}

/// A context for one statement: the session's catalogs plus `catalog.schema` holding tables
/// only this statement sees (the session's own catalog list is shared, so nothing is
/// registered there).
pub(super) fn private_context(
    state: datafusion::execution::SessionState,
    catalog: &str,
    schema_name: &str,
    schema: Arc<MemorySchemaProvider>,
) -> Result<SessionContext> {
    let catalogs = Arc::new(MemoryCatalogProviderList::new());
    for name in state.catalog_list().catalog_names() {
        if let Some(existing) = state.catalog_list().catalog(&name) {
            catalogs.register_catalog(name, existing);
        }
    }
    let private = Arc::new(MemoryCatalogProvider::new());
    private.register_schema(schema_name, schema)?;
    catalogs.register_catalog(catalog.to_string(), private);
    // Not rebuilt through SessionStateBuilder, which registers every function again under its
    // aliases (DataFusion's `to_char`, alias `date_format`, could replace ours).
    let ctx = SessionContext::new_with_state(state);
    ctx.register_catalog_list(catalogs);
    Ok(ctx)
}
