//! Statements DataFusion plans: queries, EXPLAIN, SHOW TABLES and INSERT into Delta tables.

use datafusion::arrow::array::{Array, UInt64Array};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{DmlStatement, LogicalPlan, WriteOp};
use futures::TryStreamExt;
use sqlparser::ast;

use super::planned::{plan_statement, plan_statement_in};
use super::{Description, PlanContext};
use crate::error::{Error, ErrorKind, Result};
use crate::output::{CommandTag, QueryOutput, RowSet};

/// Plans a sqlparser statement with DataFusion (resolving tables through our catalog), without
/// hints (for describing a statement's parameters and columns).
async fn plan(cx: &mut PlanContext<'_>, statement: ast::Statement) -> Result<LogicalPlan> {
    // A query plans with the session's kept state, as `run` does (a copy of the state per
    // Parse message was a tenth of a catalog query's describe).
    if cx.session_df && matches!(statement, ast::Statement::Query(_)) {
        let (state, _) = cx.plan_cache.snapshot(cx.df);
        return super::planned::logical_plan(&state, statement).await;
    }
    super::planned::logical_plan(&cx.df.state(), statement).await
}

/// Runs a query (or any other statement DataFusion executes) and streams its rows.
pub async fn run(cx: &mut PlanContext<'_>, statement: ast::Statement) -> Result<QueryOutput> {
    let cache_key = super::plan_cache::enabled(cx.settings)
        .then(|| format!("{}\n{statement}", cx.default_schema));
    if let Some(key) = &cache_key
        && let Some(kept) = cx.plan_cache.get(key)
    {
        tracing::trace!("plan reused");
        cx.plan_cache.used(key.clone());
        return rows(kept.physical, kept.task);
    }
    // A query plans with the session's kept state; anything else may change the state.
    let planned = if cx.session_df && matches!(statement, ast::Statement::Query(_)) {
        let (state, task) = cx.plan_cache.snapshot(cx.df);
        // Boxed: a reused plan's statement should not carry the planner's state (see `execute`).
        Box::pin(plan_statement_in(state, Some(task), cx.settings, statement)).await?
    } else {
        Box::pin(plan_statement(cx.df, cx.settings, statement)).await?
    };
    match &planned.plan {
        LogicalPlan::Ddl(ddl) => {
            return Err(Error::unsupported(format!(
                "{} is not supported",
                ddl.name()
            )));
        }
        LogicalPlan::Copy(_) => {
            return Err(Error::unsupported("COPY is not supported yet"));
        }
        LogicalPlan::Dml(dml) if !matches!(dml.op, WriteOp::Insert(_)) => {
            return Err(Error::unsupported(format!(
                "{} is not supported here",
                dml.op
            )));
        }
        _ => {}
    }
    let (physical, task) = Box::pin(planned.physical(cx.df, cx.notices)).await?;
    if let Some(key) = cache_key
        && planned.without_hints()
        && super::plan_cache::reusable(&planned.plan, &physical)
    {
        let kept = super::plan_cache::KeptPlan {
            physical: physical.clone(),
            task: task.clone(),
        };
        cx.plan_cache.insert(key, kept);
    }
    let hints = planned.hint_reports();
    let mut output = rows(physical, task)?;
    if let QueryOutput::Rows(set) = &mut output {
        set.hints = hints;
    }
    Ok(output)
}

/// Streams the rows of a planned statement.
pub(super) fn rows(
    physical: std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
    task: std::sync::Arc<datafusion::execution::TaskContext>,
) -> Result<QueryOutput> {
    let stream = datafusion::physical_plan::execute_stream(physical.clone(), task)?;
    Ok(QueryOutput::Rows(RowSet {
        schema: stream.schema(),
        stream,
        tag: "SELECT".into(),
        plan: Some(physical),
        hints: Vec::new(),
    }))
}

/// `INSERT INTO t ... VALUES | SELECT`: one Delta commit through the table provider.
pub async fn insert(cx: &mut PlanContext<'_>, statement: ast::Statement) -> Result<QueryOutput> {
    let mut statement = statement;
    let returning = super::returning::take(&mut statement);
    let columns = super::insert_columns::prepare(cx, &mut statement).await?;
    // A failed commit leaves nothing behind, so an INSERT that lost a commit race to another
    // writer can simply run again against the new version (delta-rs already retries plain
    // version clashes; this covers its retry budget running out under heavy contention).
    let mut attempt = 1;
    loop {
        let attempt_result = match &returning {
            Some(r) => insert_returning(cx, statement.clone(), &r.items, &r.alias, &columns).await,
            None => insert_once(cx, statement.clone(), &columns).await,
        };
        match attempt_result {
            Err(e) if e.kind == ErrorKind::WriteConflict && attempt < INSERT_ATTEMPTS => {
                tracing::debug!(attempt, error = %e.message, "insert lost a commit race; retrying");
                tokio::time::sleep(std::time::Duration::from_millis(10 * (1 << attempt))).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// How often an INSERT is tried when concurrent writers keep winning the commit.
const INSERT_ATTEMPTS: u32 = 5;

async fn insert_once(
    cx: &mut PlanContext<'_>,
    statement: ast::Statement,
    columns: &super::insert_columns::InsertColumns,
) -> Result<QueryOutput> {
    let generated = &columns.generated;
    let started = std::time::Instant::now();
    let planned = plan_statement(cx.df, cx.settings, statement).await?;
    let planned_at = started.elapsed();
    if !matches!(
        &planned.plan,
        LogicalPlan::Dml(DmlStatement {
            op: WriteOp::Insert(_),
            ..
        })
    ) {
        return Err(Error::internal("INSERT did not plan as an insert"));
    }
    if let LogicalPlan::Dml(dml) = &planned.plan {
        super::assignment_types::check_insert(&dml.input, dml.target.schema().as_ref())?;
    }
    if let LogicalPlan::Dml(dml) = &planned.plan
        && dml.op == WriteOp::Insert(InsertOp::Append)
        && let Some(table) = catalog_table(cx, &dml.table_name)
    {
        // Identity values continue the table's sequence: the statement holds the table's write
        // turn, so no writer of this server takes the same values.
        let (_turn, target) = insert_target(cx, &table).await?;
        // Generated columns are left out for delta-rs to compute from the row.
        let input = if generated.is_empty() {
            dml.input.as_ref().clone()
        } else {
            let kept: Vec<datafusion::logical_expr::Expr> = dml
                .input
                .schema()
                .columns()
                .into_iter()
                .filter(|c| !generated.contains(&c.name))
                .map(datafusion::logical_expr::Expr::Column)
                .collect();
            datafusion::logical_expr::LogicalPlanBuilder::from(dml.input.as_ref().clone())
                .project(kept)?
                .build()?
        };
        let input = super::identity::refuse_nulls(input, columns, &table)?;
        let input = super::column_input::checked_rows(
            input,
            crate::delta::table_arrow_schema(&target)?.as_ref(),
        )?;
        let (rows, committed) =
            crate::delta::append_plan(target, input, std::sync::Arc::new(cx.df.state())).await?;
        cx.catalog.adopt(&table, &committed).await;
        planned.report(cx.notices);
        tracing::debug!(
            plan_us = planned_at.as_micros() as u64,
            write_and_commit_us = (started.elapsed() - planned_at).as_micros() as u64,
            rows,
            "insert timing"
        );
        return Ok(QueryOutput::Command(CommandTag::Insert(rows)));
    }
    let (physical, task) = planned.physical(cx.df, cx.notices).await?;
    let batches: Vec<_> = datafusion::physical_plan::execute_stream(physical, task)?
        .try_collect()
        .await?;
    let rows = count_column(&batches);
    Ok(QueryOutput::Command(CommandTag::Insert(rows)))
}

/// The Delta table an INSERT's target names, when it is one of the catalog's (not a table of
/// `pg_catalog` or another in-memory schema).
fn catalog_table(
    cx: &PlanContext<'_>,
    name: &datafusion::common::TableReference,
) -> Option<crate::catalog::TableRef> {
    let table = crate::catalog::TableRef {
        schema: name.schema().unwrap_or(cx.default_schema).to_string(),
        table: name.table().to_string(),
    };
    cx.catalog.table_exists(&table).then_some(table)
}

/// The state of `table` an INSERT writes on, with the table's write turn when it has identity
/// columns (their values are generated from the state under the turn).
async fn insert_target(
    cx: &PlanContext<'_>,
    table: &crate::catalog::TableRef,
) -> Result<(Option<crate::catalog::WriteTurn>, deltalake::DeltaTable)> {
    let loaded = cx.catalog.load(table).await?;
    if !crate::delta::lists_identity_feature(loaded.snapshot()?.protocol()) {
        return Ok((None, loaded));
    }
    let (turn, target) = cx.load_for_rewrite(table).await?;
    Ok((Some(turn), target))
}

/// `INSERT ... RETURNING`: the rows to add are computed once, written through the same table
/// provider as any INSERT, and the RETURNING list is evaluated over them.
async fn insert_returning(
    cx: &mut PlanContext<'_>,
    statement: ast::Statement,
    items: &[ast::SelectItem],
    alias: &str,
    columns: &super::insert_columns::InsertColumns,
) -> Result<QueryOutput> {
    use datafusion::datasource::{MemTable, provider_as_source};
    use datafusion::logical_expr::LogicalPlanBuilder;
    use std::sync::Arc;
    let planned = plan_statement(cx.df, cx.settings, statement).await?;
    let LogicalPlan::Dml(dml) = &planned.plan else {
        return Err(Error::internal("INSERT did not plan as an insert"));
    };
    super::assignment_types::check_insert(&dml.input, dml.target.schema().as_ref())?;
    let state = cx.df.state();
    let task = Arc::new(datafusion::execution::TaskContext::from(&state));
    // Document columns' values checked (and jsonb's written in its form) before they are
    // written and returned.
    let input = super::column_input::checked_rows(
        dml.input.as_ref().clone(),
        dml.target.schema().as_ref(),
    )?;
    // Identity values are generated before the rows are returned (and then written as given).
    let target = match catalog_table(cx, &dml.table_name) {
        Some(table) => {
            let (turn, loaded) = insert_target(cx, &table).await?;
            Some((table, turn, loaded))
        }
        None => None,
    };
    let input = match &target {
        Some((table, _, _)) => super::identity::refuse_nulls(input, columns, table)?,
        None => input,
    };
    let (input, fill) = match &target {
        Some((_, Some(_), loaded)) => {
            crate::delta::with_generated_values(input, &crate::delta::identity_columns(loaded)?)?
        }
        _ => (input, crate::delta::IdentityFill::default()),
    };
    let source = state.create_physical_plan(&input).await?;
    let rows: Vec<_> = datafusion::physical_plan::execute_stream(source, task.clone())?
        .try_collect()
        .await?;
    let inserted = MemTable::try_new(input.schema().inner().clone(), vec![rows.clone()])?;
    let scan = LogicalPlanBuilder::scan(
        "__deltagres_inserted",
        provider_as_source(Arc::new(inserted)),
        None,
    )?
    .build()?;
    match target {
        // Identity rows are written with the values returned (the commit records `fill`'s
        // marks, under the write turn); a table with another feature delta-rs refuses (column
        // defaults) is appended to as INSERT's rows are (the table provider's write would go to
        // delta-rs's check).
        Some((table, turn, loaded))
            if turn.is_some()
                || crate::delta::lists_handled_feature(loaded.snapshot()?.protocol()) =>
        {
            let session = Arc::new(state);
            let (_, committed) = match turn {
                Some(_) => crate::delta::append_filled(loaded, scan, session, fill).await?,
                None => crate::delta::append_plan(loaded, scan, session).await?,
            };
            cx.catalog.adopt(&table, &committed).await;
        }
        _ => {
            let write = LogicalPlan::Dml(DmlStatement::new(
                dml.table_name.clone(),
                dml.target.clone(),
                dml.op.clone(),
                Arc::new(scan),
            ));
            let physical = state.create_physical_plan(&write).await?;
            let _: Vec<_> = datafusion::physical_plan::execute_stream(physical, task)?
                .try_collect()
                .await?;
        }
    }
    planned.report(cx.notices);
    let table_schema = dml.target.schema();
    super::returning::project(
        cx,
        alias,
        table_schema,
        rows,
        items,
        super::returning::tag("INSERT"),
    )
    .await
}

/// Sums the `count` column DataFusion's write plans return.
fn count_column(batches: &[datafusion::arrow::array::RecordBatch]) -> u64 {
    batches
        .iter()
        .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>())
        .flat_map(|a| (0..a.len()).map(move |i| a.value(i)))
        .sum()
}

/// Parameter types and result columns of a statement, from DataFusion's plan.
pub async fn describe(
    cx: &mut PlanContext<'_>,
    statement: &ast::Statement,
    param_count: usize,
) -> Result<Description> {
    use ast::Statement as S;
    let plannable = matches!(
        statement,
        S::Query(_)
            | S::Insert(_)
            | S::Update(_)
            | S::Delete(_)
            | S::Explain { .. }
            | S::ShowTables { .. }
    );
    let mut description = Description {
        param_types: vec![None; param_count],
        uuid_params: vec![false; param_count],
        result_schema: None,
    };
    if !plannable {
        return Ok(description);
    }
    let mut statement = statement.clone();
    let returning = super::returning::take(&mut statement);
    let statement = &statement;
    let plan = match plan(cx, statement.clone()).await {
        Ok(plan) => super::planned::signed_result_types(plan)?,
        // UPDATE/DELETE only plan in DataFusion for type inference; their errors surface at execution.
        Err(_) if matches!(statement, S::Update(_) | S::Delete(_)) => {
            return describe_returning(cx, description, returning).await;
        }
        Err(e) => return Err(e),
    };
    for (name, field) in plan.get_parameter_fields()? {
        if let Some(n) = name.strip_prefix('$').and_then(|n| n.parse::<usize>().ok())
            && n >= 1
            && n <= param_count
        {
            description.uuid_params[n - 1] =
                field.as_ref().is_some_and(|f| crate::semantics::is_uuid(f));
            description.param_types[n - 1] = field.map(|f| f.data_type().clone());
        }
    }
    // PostgreSQL types a LIMIT or OFFSET parameter as bigint; DataFusion leaves it untyped, and
    // drivers refuse to bind a value to an unknown type.
    for n in limit_parameters(&plan) {
        if let Some(slot) = description.param_types.get_mut(n.wrapping_sub(1))
            && slot.is_none()
        {
            *slot = Some(datafusion::arrow::datatypes::DataType::Int64);
        }
    }
    // `$1::uuid`: a uuid, as PostgreSQL describes it.
    for n in uuid_cast_parameters(&plan) {
        if let Some(slot) = description.param_types.get_mut(n.wrapping_sub(1))
            && slot.is_none()
        {
            *slot = Some(datafusion::arrow::datatypes::DataType::Utf8);
            description.uuid_params[n - 1] = true;
        }
    }
    for (n, data_type) in quantified_array_parameters(&plan) {
        if let Some(slot) = description.param_types.get_mut(n.wrapping_sub(1))
            && slot.is_none()
        {
            *slot = Some(data_type);
        }
    }
    if !matches!(
        plan,
        LogicalPlan::Dml(_) | LogicalPlan::Ddl(_) | LogicalPlan::Statement(_)
    ) {
        // The types the statement really returns: our analyzer rules retype some expressions
        // (PostgreSQL's avg of integers is numeric), so the described schema is the analyzed one.
        let state = cx.df.state();
        let analyzed =
            state
                .analyzer()
                .execute_and_check(plan, state.config_options(), |_, _| {})?;
        description.result_schema = Some(analyzed.schema().inner().clone());
    }
    describe_returning(cx, description, returning).await
}

/// A write's result columns are its RETURNING list's, over rows shaped like its table.
async fn describe_returning(
    cx: &mut PlanContext<'_>,
    mut description: Description,
    returning: Option<super::returning::Returning>,
) -> Result<Description> {
    let Some(returning) = returning else {
        return Ok(description);
    };
    let table_ref = super::resolve_table(&returning.table, cx.default_schema)?;
    let table = cx.catalog.load(&table_ref).await?;
    let schema = crate::delta::table_arrow_schema(&table)?;
    description.result_schema = Some(
        super::returning::schema(
            cx,
            &returning.alias,
            schema,
            &returning.items,
            &description.param_types,
        )
        .await?,
    );
    Ok(description)
}

/// The numbers of the parameters that are a LIMIT's or OFFSET's whole expression, subqueries
/// included.
fn limit_parameters(plan: &LogicalPlan) -> Vec<usize> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    let mut numbers = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Limit(limit) = node {
            for e in [limit.skip.as_deref(), limit.fetch.as_deref()]
                .into_iter()
                .flatten()
            {
                if let datafusion::logical_expr::Expr::Placeholder(p) = e
                    && let Some(n) = p.id.strip_prefix('$').and_then(|n| n.parse().ok())
                {
                    numbers.push(n);
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    });
    numbers
}

/// The parameters of quantified comparisons, typed as PostgreSQL infers them: `x = ANY($1)`
/// (how drivers send a list) an array of `x`'s type, `$1 = ANY(array)` the array's element
/// type. DataFusion leaves a function's arguments untyped, and drivers that bind by the
/// described type refused to send a list.
/// The `$n` cast to uuid (`$1::uuid` is planned as `pg_uuid($1)`).
fn uuid_cast_parameters(plan: &LogicalPlan) -> Vec<usize> {
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::Expr;
    let mut found = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        node.apply_expressions(|e| {
            e.apply(|e| {
                if let Expr::ScalarFunction(f) = e
                    && f.func.name() == crate::semantics::CAST_UUID
                    && let [Expr::Placeholder(p)] = f.args.as_slice()
                    && let Some(n) = p.id.strip_prefix('$').and_then(|n| n.parse().ok())
                {
                    found.push(n);
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

fn quantified_array_parameters(
    plan: &LogicalPlan,
) -> Vec<(usize, datafusion::arrow::datatypes::DataType)> {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::logical_expr::{Expr, ExprSchemable};
    let mut found = Vec::new();
    let _ = plan.apply_with_subqueries(|node| {
        let mut schemas: Vec<&datafusion::common::DFSchema> =
            node.inputs().iter().map(|i| i.schema().as_ref()).collect();
        schemas.push(node.schema().as_ref());
        node.apply_expressions(|e| {
            e.apply(|e| {
                let number = |p: &datafusion::logical_expr::expr::Placeholder| {
                    p.id.strip_prefix('$').and_then(|n| n.parse::<usize>().ok())
                };
                let type_of = |x: &Expr| schemas.iter().find_map(|s| x.get_type(*s).ok());
                if let Expr::ScalarFunction(f) = e
                    && crate::semantics::is_quantified_comparison(f.func.name())
                {
                    match f.args.as_slice() {
                        [_, Expr::Placeholder(p), x] => {
                            if let (Some(n), Some(element)) = (number(p), type_of(x)) {
                                found.push((n, DataType::new_list(element, true)));
                            }
                        }
                        [_, array, Expr::Placeholder(p)] => {
                            if let (Some(n), Some(DataType::List(element))) =
                                (number(p), type_of(array))
                            {
                                found.push((n, element.data_type().clone()));
                            }
                        }
                        _ => {}
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
        })?;
        Ok(TreeNodeRecursion::Continue)
    });
    found
}
