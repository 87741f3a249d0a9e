//! Routing: each [`Statement`] goes to the component that executes it.
//!
//! Queries, EXPLAIN and INSERT are planned by DataFusion over the Delta table providers; UPDATE and
//! DELETE run as delta-rs operations; CREATE / DROP / ALTER change the catalog. Session statements
//! (SET, BEGIN, ...) never get here: the session handles them.

mod alter;
mod assignment_types;
mod checks;
mod column_defaults;
mod column_input;
mod comments;
mod copy;
mod ddl;
mod describe;
mod distinct_cast_names;
mod dml;
mod dml_join;
mod explain;
mod hints;
mod identity;
mod insert_columns;
mod leaf_limits;
mod maintenance;
mod merge;
mod merge_values;
mod names;
mod nan_pruning;
mod optimize;
mod params;
mod paths;
mod plan_cache;
mod planned;
mod quantified_subqueries;
mod query;
mod redundant_group_keys;
mod rename;
mod returning;
mod scalar_subqueries;
mod set_functions;
mod table_changes;
mod table_columns;
mod temp_tables;
mod temp_writes;
mod timetravel;
mod untyped_literals;
mod views;
mod whole_rows;
mod write_exprs;
mod write_predicates;
mod zorder_rewrite;

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::prelude::SessionContext;
use sqlparser::ast;

pub use copy::{CopyFormat, CopyIn, CopyLoad, CopyOut};
pub use explain::{SKEW_FACTOR, SKEW_MIN_ROWS, executed_plan_json, human_bytes, spilled_bytes};
pub use maintenance::RETENTION_CHECK_SETTING;
pub use names::{normalize_ident, resolve_table};
pub use optimize::TARGET_FILE_SIZE_SETTING;
pub use params::{bind_parameters, cast_declared_parameters, count_parameters};
pub use plan_cache::enabled as plan_cache_enabled;
pub use plan_cache::{KeptPlan, PLAN_CACHE_SETTING, PlanCache, reads_no_relation};

/// Runs a kept plan again (see [`PlanCache::get_by_text`]).
pub fn run_kept(kept: KeptPlan) -> Result<QueryOutput> {
    query::rows(kept.physical, kept.task)
}

use crate::catalog::{AllowedPaths, DeltaCatalog, TableRef, TempTables};
use crate::dialect::Statement;
use crate::error::{Error, Result};
use crate::output::{Notices, QueryOutput};
use crate::session::Settings;

pub use hints::SALT_BUCKETS_SETTING;

/// The session state every session starts from, with what our planning adds to DataFusion's:
/// the hint-aware physical planner and optimizer rule, the row hash and the check functions.
pub fn lakehouse_state(
    state: datafusion::execution::SessionState,
) -> datafusion::execution::SessionState {
    let rules = nan_pruning::with_float_filter_barriers(leaf_limits::with_leaf_limit_guards(
        hints::physical_optimizer_rules(state.physical_optimizers().to_vec()),
    ));
    // PostgreSQL's literal typing runs before DataFusion's type coercion.
    let mut analyzer_rules: Vec<Arc<dyn datafusion::optimizer::AnalyzerRule + Send + Sync>> = vec![
        Arc::new(untyped_literals::BooleanStringLiterals),
        // A float meeting a numeric is compared as a float (DataFusion: as a decimal).
        Arc::new(crate::semantics::FloatOverNumeric),
        // bytea operands as PostgreSQL types them (DataFusion: as their text).
        Arc::new(crate::semantics::BinaryOperands),
        // Text beside numbers in CASE / COALESCE / IN / UNION refused or typed as PostgreSQL
        // does (DataFusion: everything made text).
        Arc::new(crate::semantics::TypeResolution),
        // A quoted literal beside a uuid read as one; `uuid::text` a text.
        Arc::new(crate::semantics::UuidOperands),
        // Intervals compared and ordered by PostgreSQL's linear value (30-day months).
        Arc::new(crate::semantics::IntervalOrder),
    ];
    analyzer_rules.extend(state.analyzer().rules.iter().cloned());
    // PostgreSQL's value semantics need the coerced types; a rewrite can change a type (date +
    // interval is a timestamp), so coercion runs once more after it.
    // EXCEPT ALL / INTERSECT ALL count copies (DataFusion's anti/semi join did not).
    analyzer_rules.push(Arc::new(crate::semantics::MultisetExceptIntersect));
    // Intervals grouped by PostgreSQL's linear value (GROUP BY, DISTINCT, UNION, PARTITION BY,
    // INTERSECT / EXCEPT, whose joins and windows the rule above plans).
    analyzer_rules.push(Arc::new(crate::semantics::IntervalGroups));
    analyzer_rules.push(Arc::new(crate::semantics::PostgresSemantics));
    analyzer_rules.push(Arc::new(
        datafusion::optimizer::analyzer::type_coercion::TypeCoercion::new(),
    ));
    // Ours first: DataFusion's own would plan (or refuse) the interval operators.
    let mut expr_planners: Vec<Arc<dyn datafusion::logical_expr::planner::ExprPlanner>> =
        vec![Arc::new(crate::semantics::PostgresOperators)];
    expr_planners.extend(state.expr_planners().iter().cloned());
    let optimizer_rules = state
        .optimizers()
        .iter()
        .map(|rule| {
            if rule.name() == redundant_group_keys::RedundantGroupKeys::NAME {
                Arc::new(redundant_group_keys::RedundantGroupKeys::new(rule.clone()))
                    as Arc<dyn datafusion::optimizer::OptimizerRule + Send + Sync>
            } else {
                rule.clone()
            }
        })
        .collect();
    let mut state = datafusion::execution::SessionStateBuilder::new_from_existing(state)
        .with_analyzer_rules(analyzer_rules)
        .with_optimizer_rules(optimizer_rules)
        .with_expr_planners(expr_planners)
        .with_query_planner(Arc::new(hints::LakehouseQueryPlanner))
        .with_physical_optimizer_rules(rules)
        .build();
    use datafusion::execution::FunctionRegistry;
    let _ = state.register_udf(Arc::new(datafusion::logical_expr::ScalarUDF::from(
        hints::RowHash::new(),
    )));
    let _ = state.register_udf(Arc::new(datafusion::logical_expr::ScalarUDF::from(
        checks::AssertTrue::new(),
    )));
    let _ = state.register_udf(Arc::new(datafusion::logical_expr::ScalarUDF::from(
        checks::RaiseError::new(),
    )));
    state
}

/// What a statement needs from its session to run.
pub struct PlanContext<'a> {
    /// The session's DataFusion context (its settings, the shared catalog).
    pub df: &'a SessionContext,
    /// The shared Delta catalog.
    pub catalog: &'a Arc<DeltaCatalog>,
    /// Where unqualified table names resolve (the first `search_path` schema).
    pub default_schema: &'a str,
    /// Notices for the client (e.g. "relation already exists, skipping").
    pub notices: &'a mut Notices,
    /// The session's run-time parameters (e.g. the VACUUM retention check).
    pub settings: &'a Settings,
    /// Where user-given paths (LOCATION) may point.
    pub allowed_paths: &'a AllowedPaths,
    /// The session's temporary tables (`pg_temp`).
    pub temp: &'a TempTables,
    /// The session's reusable plans (statements that read nothing; see `plan_cache`).
    pub plan_cache: &'a mut PlanCache,
    /// Whether `df` is the session's own context (not a statement's time-travel catalog): only
    /// then may planning use the session's kept copy of its state.
    pub session_df: bool,
}

impl PlanContext<'_> {
    /// Waits for `table`'s write turn (see [`crate::catalog::WriteTurn`]), then loads its latest
    /// version: a statement that rewrites rows builds on the commit of the one before it.
    pub async fn load_for_rewrite(
        &self,
        table: &TableRef,
    ) -> Result<(crate::catalog::WriteTurn, deltalake::DeltaTable)> {
        let timeout = match self.settings.lock_timeout_ms() {
            0 => None,
            ms => Some(std::time::Duration::from_millis(ms)),
        };
        let turn = self.catalog.write_turn(table, timeout).await?;
        let loaded = self.catalog.load(table).await?;
        Ok((turn, loaded))
    }

    /// The same context planning with another DataFusion context (a statement's time-travel
    /// catalog).
    pub fn with_df<'b>(&'b mut self, df: &'b SessionContext) -> PlanContext<'b> {
        PlanContext {
            df,
            catalog: self.catalog,
            default_schema: self.default_schema,
            notices: &mut *self.notices,
            settings: self.settings,
            allowed_paths: self.allowed_paths,
            temp: self.temp,
            plan_cache: &mut *self.plan_cache,
            session_df: false,
        }
    }
}

/// What a prepared statement takes and returns, for the extended protocol's Describe.
#[derive(Debug, Clone, Default)]
pub struct Description {
    /// The type of each `$n` (index n-1); None when it cannot be inferred.
    pub param_types: Vec<Option<DataType>>,
    /// The `$n` (index n-1) that stand for a uuid (compared with or written to a uuid column):
    /// described to the client as uuid, so drivers bind their uuid values.
    pub uuid_params: Vec<bool>,
    /// The result columns; None for statements that return no rows.
    pub result_schema: Option<SchemaRef>,
}

/// Executes one statement; after a commit, keeps the written tables' logs short (checkpoints).
/// Statements other than queries run boxed: each async function's state is part of its
/// caller's, and a short query's would otherwise be as large as the largest statement's and be
/// copied at every await boundary above it.
pub async fn execute(cx: &mut PlanContext<'_>, mut statement: Statement) -> Result<QueryOutput> {
    temp_tables::qualify(&mut statement, cx.temp);
    temp_tables::refuse_delta_writes(&statement)?;
    temp_tables::refuse_views_of_temp_tables(&statement)?;
    if !is_create_view(&statement) {
        views::expand(&mut statement, cx.catalog, cx.default_schema)?;
    }
    let written: Vec<TableRef> = statement
        .written_tables()
        .iter()
        .filter(|name| !temp_tables::is_temp_name(name))
        .filter_map(|name| resolve_table(name, cx.default_schema).ok())
        .collect();
    let output = execute_statement(cx, statement).await?;
    if !matches!(output, QueryOutput::CopyIn(_)) {
        for table in &written {
            if cx.catalog.table_exists(table) {
                Box::pin(cx.catalog.after_commit(table)).await;
            }
        }
    }
    Ok(output)
}

async fn execute_statement(cx: &mut PlanContext<'_>, statement: Statement) -> Result<QueryOutput> {
    match statement {
        Statement::CreateTable(create) => Box::pin(ddl::create_table(cx, *create)).await,
        Statement::Sql(sql) => execute_sql(cx, *sql).await,
        Statement::DescribeHistory { table, limit } => {
            Box::pin(maintenance::describe_history(cx, &table, limit)).await
        }
        Statement::DescribeDetail { table } => {
            Box::pin(maintenance::describe_detail(cx, &table)).await
        }
        Statement::AlterViewRename {
            name,
            if_exists,
            to,
        } => {
            Box::pin(rename::rename(
                cx,
                rename::Kind::View,
                &name,
                if_exists,
                &to,
            ))
            .await
        }
        Statement::ShowTables { schema, pattern } => {
            describe::show_tables(cx, schema.as_ref(), pattern.as_deref())
        }
        Statement::ShowColumns { table } => Box::pin(describe::show_columns(cx, &table)).await,
        Statement::DescribeTable { table, extended } => {
            describe::describe_table(cx, &table, extended).await
        }
        Statement::ShowCreateTable { table } => {
            Box::pin(describe::show_create_table(cx, &table)).await
        }
        Statement::UnsetTblProperties {
            table,
            keys,
            if_exists,
        } => Box::pin(alter::unset_properties(cx, &table, &keys, if_exists)).await,
        Statement::ConvertToDelta {
            location,
            partitioned_by,
        } => Box::pin(ddl::convert_to_delta(cx, &location, &partitioned_by)).await,
        Statement::Restore { table, to } => Box::pin(maintenance::restore(cx, &table, &to)).await,
        Statement::Vacuum {
            table,
            retain_hours,
            dry_run,
        } => {
            let enforce = cx
                .settings
                .get(RETENTION_CHECK_SETTING)
                .map(|v| !matches!(v.to_ascii_lowercase().as_str(), "off" | "false" | "0"))
                .unwrap_or(true);
            Box::pin(maintenance::vacuum(
                cx,
                &table,
                retain_hours,
                dry_run,
                enforce,
            ))
            .await
        }
        Statement::InsertReplaceWhere {
            table,
            predicate,
            query,
        } => Box::pin(dml::insert_replace_where(cx, &table, predicate, query)).await,
        Statement::Merge {
            merge,
            schema_evolution,
        } => Box::pin(merge::merge(cx, *merge, schema_evolution)).await,
    }
}

async fn execute_sql(cx: &mut PlanContext<'_>, statement: ast::Statement) -> Result<QueryOutput> {
    use ast::Statement as S;
    match statement {
        S::CreateSchema {
            schema_name,
            if_not_exists,
            ..
        } => Box::pin(ddl::create_schema(cx, &schema_name, if_not_exists)).await,
        S::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            ..
        } => Box::pin(ddl::drop(cx, object_type, if_exists, &names, cascade)).await,
        S::AlterTable(alter) => Box::pin(alter::alter_table(cx, alter)).await,
        S::Comment {
            object_type,
            object_name,
            comment,
            ..
        } => Box::pin(comments::comment(cx, object_type, &object_name, comment)).await,
        statement @ (S::Update(_) | S::Delete(_) | S::Truncate(_))
            if temp_writes::writes_temp_tables(&statement) =>
        {
            Box::pin(temp_writes::write(cx, statement)).await
        }
        S::Update(update) => Box::pin(dml::update(cx, update)).await,
        S::Delete(delete) => Box::pin(dml::delete(cx, delete)).await,
        S::Insert(_) | S::Query(_) | S::Explain { .. } => {
            let mut statement = statement;
            match Box::pin(timetravel::resolve(cx, &mut statement)).await? {
                Some(versioned) => {
                    let mut cx = cx.with_df(&versioned);
                    Box::pin(run_with_datafusion(&mut cx, statement)).await
                }
                None => run_with_datafusion(cx, statement).await,
            }
        }
        S::CreateTable(create) if create.temporary => {
            Box::pin(temp_tables::create(cx, create)).await
        }
        S::CreateTable(_) => Err(Error::unsupported(
            "this form of CREATE TABLE is not supported: tables are Delta tables (CREATE TABLE) or temporary (CREATE TEMP TABLE)",
        )),
        S::CreateView(create) => Box::pin(views::create_view(cx, create)).await,
        S::Copy { .. } => Box::pin(copy::copy(cx, statement)).await,
        S::Truncate(truncate) => Box::pin(dml::truncate(cx, truncate)).await,
        S::Merge(_) => Box::pin(merge::merge(cx, statement, false)).await,
        S::OptimizeTable {
            name,
            predicate,
            zorder,
            ..
        } => Box::pin(optimize::optimize(cx, &name, predicate, zorder)).await,
        other => query::run(cx, other).await,
    }
}

async fn run_with_datafusion(
    cx: &mut PlanContext<'_>,
    statement: ast::Statement,
) -> Result<QueryOutput> {
    match statement {
        ast::Statement::Insert(_) => Box::pin(query::insert(cx, statement)).await,
        ast::Statement::Explain { .. } => Box::pin(explain::explain(cx, statement)).await,
        other => query::run(cx, other).await,
    }
}

/// Infers parameter types and the result schema of a statement without running it.
pub async fn describe(cx: &mut PlanContext<'_>, statement: &Statement) -> Result<Description> {
    let n = count_parameters(statement);
    let expanded;
    let statement = if is_create_view(statement) {
        statement
    } else {
        let mut copy = statement.clone();
        views::expand(&mut copy, cx.catalog, cx.default_schema)?;
        expanded = copy;
        &expanded
    };
    match statement {
        Statement::Sql(sql) if matches!(sql.as_ref(), ast::Statement::OptimizeTable { .. }) => {
            Ok(rows_of(optimize::optimize_schema(), n))
        }
        Statement::Sql(sql) if matches!(sql.as_ref(), ast::Statement::Explain { .. }) => {
            Ok(rows_of(explain::explain_schema(), n))
        }
        Statement::Sql(sql) => {
            let mut sql = sql.as_ref().clone();
            match timetravel::resolve(cx, &mut sql).await? {
                Some(versioned) => {
                    let mut cx = cx.with_df(&versioned);
                    query::describe(&mut cx, &sql, n).await
                }
                None => query::describe(cx, &sql, n).await,
            }
        }
        Statement::DescribeHistory { .. } => Ok(rows_of(crate::delta::history_schema(), n)),
        Statement::DescribeDetail { .. } => Ok(rows_of(crate::delta::detail_schema(), n)),
        Statement::Restore { .. } => Ok(rows_of(maintenance::restore_schema(), n)),
        Statement::Vacuum { .. } => Ok(rows_of(maintenance::vacuum_schema(), n)),
        _ => Ok(Description {
            param_types: vec![None; n],
            uuid_params: vec![false; n],
            result_schema: None,
        }),
    }
}

/// CREATE VIEW keeps its query as written: views inside it are expanded when it is read.
fn is_create_view(statement: &Statement) -> bool {
    matches!(statement, Statement::Sql(sql) if matches!(sql.as_ref(), ast::Statement::CreateView(_)))
}

fn rows_of(schema: SchemaRef, params: usize) -> Description {
    Description {
        param_types: vec![None; params],
        uuid_params: vec![false; params],
        result_schema: Some(schema),
    }
}
