//! UPDATE, DELETE and TRUNCATE as delta-rs operations: each is one Delta commit that rewrites only
//! the files holding matching rows.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, AssignmentTarget, Expr, FromTable, Ident, TableFactor, TableWithJoins,
    visit_expressions_mut,
};

use super::names::{normalize_ident, quoted_ident};
use super::{PlanContext, resolve_table, returning};
use crate::catalog::TableRef;
use crate::error::{Error, Result};
use crate::output::{CommandTag, QueryOutput};

/// `UPDATE t [AS a] SET c = e, ... [WHERE p]`.
pub async fn update(cx: &mut PlanContext<'_>, mut update: ast::Update) -> Result<QueryOutput> {
    let returning = update.returning.take();
    if let Some(selection) = update.selection.as_mut() {
        super::quantified_subqueries::as_in(selection)?;
    }
    let mut values: Vec<&mut Expr> = update.selection.iter_mut().collect();
    for assignment in update.assignments.iter_mut() {
        values.push(&mut assignment.value);
    }
    super::scalar_subqueries::inline(cx, values).await?;
    if update.from.is_some() {
        if returning.is_some() {
            return Err(Error::unsupported(
                "UPDATE ... FROM ... RETURNING is not supported; run the UPDATE, then SELECT the rows",
            ));
        }
        return super::dml_join::update_from(cx, update).await;
    }
    // `WHERE col IN (SELECT ...)`: an UPDATE ... FROM over the subquery's distinct rows (a
    // subquery left in the WHERE is refused below).
    if returning.is_none()
        && !update.assignments.iter().any(|a| has_subquery(&a.value))
        && super::dml_join::update_in_subquery_as_from(&mut update)?
        && !update.selection.as_ref().is_some_and(has_subquery)
    {
        return super::dml_join::update_from(cx, update).await;
    }
    if update.selection.as_ref().is_some_and(has_subquery)
        || update.assignments.iter().any(|a| has_subquery(&a.value))
    {
        return Err(subquery_unsupported("UPDATE"));
    }
    let (table_ref, alias) = single_table(&update.table, cx.default_schema)?;
    let (_turn, table) = cx.load_for_rewrite(&table_ref).await?;
    let columns: Vec<String> = table
        .snapshot()?
        .schema()
        .fields()
        .map(|f| f.name().to_string())
        .collect();
    // RETURNING sees each row's new values: the table's columns, assigned ones replaced.
    let mut new_values: Vec<String> = columns
        .iter()
        .map(|c| Ident::with_quote('"', c).to_string())
        .collect();
    let selection = update.selection.clone();
    let table_schema = crate::delta::table_arrow_schema(&table)?;
    let exprs = super::write_exprs::WriteExprs::over_table(cx.df.state(), &table_schema)?;
    let mut builder = crate::delta::operable(&table)?
        .update()
        .with_session_state(exprs.session())
        .with_commit_properties(crate::delta::quiet_commit());
    if let Some(predicate) = update.selection {
        let (table_ref, alias) = (&table_ref, alias.as_deref());
        builder = write_condition(
            predicate,
            (&table, table_ref, alias),
            &exprs,
            super::write_predicates::update_predicate,
        )?
        .apply(
            builder,
            |b, e| b.with_predicate(e),
            |b, t| b.with_predicate(t),
        );
    }
    let generated = crate::delta::generated_columns(&table)?;
    let always_identity = super::identity::always_generated(&table)?;
    let identity_columns: Vec<String> = crate::delta::identity_columns(&table)?
        .into_iter()
        .map(|c| c.name)
        .collect();
    let defaults = super::column_defaults::stored(&table)?;
    let mut assigned: std::collections::HashMap<String, Expr> = std::collections::HashMap::new();
    for assignment in update.assignments {
        let AssignmentTarget::ColumnName(name) = &assignment.target else {
            return Err(Error::unsupported(
                "UPDATE with tuple assignments is not supported",
            ));
        };
        let column = name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(normalize_ident)
            .ok_or_else(|| Error::syntax(format!("invalid column name {name}")))?;
        if !columns.contains(&column) {
            return Err(Error::new(
                crate::error::ErrorKind::UndefinedColumn,
                format!(
                    "column \"{column}\" of relation \"{}\" does not exist",
                    table_ref.table
                ),
            ));
        }
        let mut assignment = assignment;
        if super::column_defaults::is_default_keyword(&assignment.value) {
            // `SET c = DEFAULT`: a generated column keeps following its expression; another
            // column takes its DEFAULT expression, or NULL.
            if generated.iter().any(|(g, _)| *g == column) {
                continue;
            }
            if identity_columns.contains(&column) {
                return Err(Error::unsupported(format!(
                    "UPDATE ... SET {column} = DEFAULT on an identity column is not supported"
                )));
            }
            assignment.value = super::column_defaults::value_of(&defaults, &column);
        }
        if generated.iter().any(|(g, _)| *g == column) {
            return Err(generated_assigned(&column));
        }
        if always_identity.contains(&column) {
            return Err(super::identity::update_refused(&column));
        }
        if super::column_defaults::is_null_literal(&assignment.value)
            && table_schema
                .field_with_name(&column)
                .is_ok_and(|f| !f.is_nullable())
        {
            return Err(not_null_violated(&[column], &table_ref.table));
        }
        if let Some(i) = columns.iter().position(|c| *c == column) {
            new_values[i] = format!(
                "({}) AS {}",
                assignment.value,
                Ident::with_quote('"', &column)
            );
        }
        let mut value = assignment.value;
        unqualify(&mut value, &table_ref, alias.as_deref());
        let sql = value.to_string();
        let planned = exprs.plan(&sql)?;
        if let Ok(field) = table_schema.field_with_name(&column) {
            super::assignment_types::check_assigned(field, &planned, &exprs)?;
        }
        let checked = super::column_input::checked_sql(&table_schema, &column, sql.clone());
        let planned = if checked == sql {
            planned
        } else {
            exprs.plan(&checked)?
        };
        builder = builder.with_update(column.as_str(), planned);
        assigned.insert(column, value);
    }
    // Generated columns follow the columns they are computed from (delta-rs's UPDATE does not
    // recompute them): each is set to its expression over the updated row.
    // delta-rs evaluates every SET against the old row, so the assigned values are put in.
    for (column, expr) in &generated {
        let value = generated_value(expr, &assigned, None)?;
        if let Some(i) = columns.iter().position(|c| c == column) {
            new_values[i] = format!("({value}) AS {}", Ident::with_quote('"', column));
        }
        builder = builder.with_update(column.as_str(), value.to_string());
    }
    if let Some(items) = returning {
        // The new rows at the snapshot the commit builds on; a concurrent change to the same
        // files fails the commit (40001), so these are the rows written.
        let name = alias.clone().unwrap_or_else(|| table_ref.table.clone());
        let rows = returning::collect_rows(
            cx,
            snapshot_provider(cx, &table).await?,
            &name,
            &new_values.join(", "),
            selection.as_ref(),
        )
        .await?;
        builder.await?;
        let schema = crate::delta::table_arrow_schema(&table)?;
        return returning::project(cx, &name, schema, rows, &items, returning::tag("UPDATE")).await;
    }
    let (_, metrics) = builder.await.map_err(|e| {
        // Only the NOT NULL columns this UPDATE sets can have failed.
        let written: Vec<&String> = assigned.keys().collect();
        null_in_not_null_column(Error::from(e), &table, &table_ref.table, &written)
    })?;
    tracing::debug!(table = %table_ref, ?metrics, "update committed");
    Ok(QueryOutput::Command(CommandTag::Update(
        metrics.num_updated_rows as u64,
    )))
}

/// The WHERE of an UPDATE or DELETE on `table` (named `table_ref`, aliased `alias`) as
/// delta-rs takes it: unqualified, bytea literals read as the columns' input reads them, float
/// columns kept out of file choice by `guard` (`write_predicates`), planned in `exprs`.
fn write_condition(
    mut predicate: Expr,
    (table, table_ref, alias): (&deltalake::DeltaTable, &TableRef, Option<&str>),
    exprs: &super::write_exprs::WriteExprs,
    guard: impl FnOnce(&Expr, &std::collections::HashSet<String>) -> String,
) -> Result<super::write_exprs::WriteExpr> {
    unqualify(&mut predicate, table_ref, alias);
    let binaries = super::write_predicates::binary_columns(table)?;
    super::write_predicates::with_bytea_literals(&mut predicate, &binaries, None)?;
    let floats = super::write_predicates::float_columns(table)?;
    exprs.condition(&guard(&predicate, &floats))
}

/// `error` as PostgreSQL's 23502 when it is delta-rs's report of a NULL written into a NOT NULL
/// column of `table` (named `name`): delta-rs reports that as it reports a failed CHECK (23514),
/// so it is one when the table has no CHECK constraint and one of the NOT NULL columns among
/// `written` was written.
pub(super) fn null_in_not_null_column(
    error: Error,
    table: &deltalake::DeltaTable,
    name: &str,
    written: &[&String],
) -> Error {
    if error.kind != crate::error::ErrorKind::CheckViolation {
        return error;
    }
    let Ok(schema) = crate::delta::table_arrow_schema(table) else {
        return error;
    };
    let not_null: Vec<String> = written
        .iter()
        .filter(|c| schema.field_with_name(c).is_ok_and(|f| !f.is_nullable()))
        .map(|c| c.to_string())
        .collect();
    let checks = super::alter::constraints(table).map_or(1, |c| c.len());
    if checks == 0 && !not_null.is_empty() {
        not_null_violated(&not_null, name)
    } else {
        error
    }
}

/// 23502 for NULL written into one of the NOT NULL `columns` of `table`, as PostgreSQL says it.
fn not_null_violated(columns: &[String], table: &str) -> Error {
    let mut columns = columns.to_vec();
    columns.sort();
    let named = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(" or ");
    Error::new(
        crate::error::ErrorKind::NotNullViolation,
        format!(
            "null value in column {named} of relation \"{table}\" violates not-null constraint"
        ),
    )
}

/// `DELETE FROM t [AS a] [WHERE p]`.
pub async fn delete(cx: &mut PlanContext<'_>, mut delete: ast::Delete) -> Result<QueryOutput> {
    let returning = delete.returning.take();
    let tables = match &delete.from {
        FromTable::WithFromKeyword(t) | FromTable::WithoutKeyword(t) => t,
    };
    let [table] = tables.as_slice() else {
        return Err(Error::unsupported(
            "DELETE from several tables is not supported",
        ));
    };
    let mut using = delete.using.take();
    if let Some(selection) = delete.selection.as_mut() {
        super::quantified_subqueries::as_in(selection)?;
    }
    super::scalar_subqueries::inline(cx, delete.selection.iter_mut().collect()).await?;
    if using.is_none()
        && returning.is_none()
        && let Some(selection) = &delete.selection
        && let Some((source, on)) = super::dml_join::in_subquery_as_source(selection)
    {
        using = Some(source);
        delete.selection = Some(on);
    }
    if delete.selection.as_ref().is_some_and(has_subquery) && using.is_none() {
        return Err(subquery_unsupported("DELETE"));
    }
    if let Some(using) = using {
        if returning.is_some() {
            return Err(Error::unsupported(
                "DELETE ... USING ... RETURNING is not supported; SELECT the rows, then DELETE",
            ));
        }
        return super::dml_join::delete_using(cx, table, using, delete.selection).await;
    }
    let (table_ref, alias) = single_table(table, cx.default_schema)?;
    let (_turn, table) = cx.load_for_rewrite(&table_ref).await?;
    let removed = match &returning {
        // The rows removed, read at the snapshot the commit builds on (see UPDATE).
        Some(_) => Some(
            returning::collect_rows(
                cx,
                snapshot_provider(cx, &table).await?,
                &alias.clone().unwrap_or_else(|| table_ref.table.clone()),
                "*",
                delete.selection.as_ref(),
            )
            .await?,
        ),
        None => None,
    };
    let exprs = super::write_exprs::WriteExprs::over_table(
        cx.df.state(),
        crate::delta::table_arrow_schema(&table)?.as_ref(),
    )?;
    let mut builder = crate::delta::operable(&table)?
        .delete()
        .with_session_state(exprs.session())
        .with_commit_properties(crate::delta::quiet_commit());
    let whole_table = delete.selection.is_none();
    if let Some(predicate) = delete.selection {
        let (table_ref, alias) = (&table_ref, alias.as_deref());
        builder = write_condition(
            predicate,
            (&table, table_ref, alias),
            &exprs,
            super::write_predicates::delete_predicate,
        )?
        .apply(
            builder,
            |b, e| b.with_predicate(e),
            |b, t| b.with_predicate(t),
        );
    }
    let rows_before = if whole_table {
        crate::delta::row_count(&table)
    } else {
        None
    };
    let (_, metrics) = builder.await?;
    if let (Some(items), Some(rows)) = (returning, removed) {
        let name = alias.unwrap_or_else(|| table_ref.table.clone());
        let schema = crate::delta::table_arrow_schema(&table)?;
        return returning::project(cx, &name, schema, rows, &items, returning::tag("DELETE")).await;
    }
    let deleted = metrics
        .num_deleted_rows
        .map(|n| n as u64)
        .or(rows_before)
        .unwrap_or(0);
    Ok(QueryOutput::Command(CommandTag::Delete(deleted)))
}

/// `TRUNCATE [TABLE] t`: a DELETE of every row, one commit.
pub async fn truncate(cx: &mut PlanContext<'_>, truncate: ast::Truncate) -> Result<QueryOutput> {
    for target in &truncate.table_names {
        let table_ref = resolve_table(&target.name, cx.default_schema)?;
        let (_turn, table) = cx.load_for_rewrite(&table_ref).await?;
        crate::delta::operable(&table)?
            .delete()
            .with_session_state(session_state(cx))
            .with_commit_properties(crate::delta::quiet_commit())
            .await?;
    }
    Ok(QueryOutput::Command(CommandTag::Other(
        "TRUNCATE TABLE".into(),
    )))
}

/// The table as it is in `table`'s snapshot (not the catalog's latest version), for reading the
/// rows a write is about to change.
async fn snapshot_provider(
    cx: &PlanContext<'_>,
    table: &deltalake::DeltaTable,
) -> Result<std::sync::Arc<dyn datafusion::catalog::TableProvider>> {
    let provider = table
        .table_provider()
        .with_session(std::sync::Arc::new(cx.df.state()))
        .await?;
    let partition_columns = table.snapshot()?.metadata().partition_columns().to_vec();
    Ok(crate::delta::GuardedScanTable::wrap(
        provider,
        &partition_columns,
    ))
}

/// The session's state for a delta-rs operation: without it delta-rs runs in a default session,
/// outside `engine.memory_limit`, the session's time zone and our functions.
fn session_state(cx: &PlanContext<'_>) -> std::sync::Arc<dyn datafusion::catalog::Session> {
    std::sync::Arc::new(cx.df.state())
}

/// The one table an UPDATE/DELETE targets, and its alias.
fn single_table(
    table: &TableWithJoins,
    default_schema: &str,
) -> Result<(TableRef, Option<String>)> {
    if !table.joins.is_empty() {
        return Err(Error::unsupported(
            "UPDATE/DELETE with joins is not supported; use MERGE INTO",
        ));
    }
    match &table.relation {
        TableFactor::Table { name, alias, .. } => Ok((
            resolve_table(name, default_schema)?,
            alias.as_ref().map(|a| normalize_ident(&a.name)),
        )),
        other => Err(Error::unsupported(format!(
            "cannot update or delete from {other}"
        ))),
    }
}

/// delta-rs parses predicates case-sensitively and without table qualifiers: drop `t.`/`alias.`
/// prefixes and quote every identifier with its PostgreSQL-folded name.
fn unqualify(expr: &mut Expr, table: &TableRef, alias: Option<&str>) {
    let _ = visit_expressions_mut(expr, |e| {
        match e {
            Expr::Identifier(ident) => *ident = quoted_ident(ident),
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let qualifier = normalize_ident(&parts[parts.len() - 2]);
                if qualifier == table.table || Some(qualifier.as_str()) == alias {
                    *e = Expr::Identifier(quoted_ident(&parts[parts.len() - 1]));
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The query's columns as the table's, by position as an INSERT without a column list takes
/// them (PostgreSQL's and Spark's rule): the i-th query column fills the i-th table column,
/// whatever its name (`SELECT id * 10, v`), and columns the query leaves out are NULL, or an
/// error when the column is NOT NULL.
fn columns_by_position(
    target: &deltalake::DeltaTable,
    plan: datafusion::logical_expr::LogicalPlan,
) -> Result<datafusion::logical_expr::LogicalPlan> {
    use datafusion::logical_expr::{LogicalPlanBuilder, cast, lit};
    let schema = target.snapshot()?.snapshot().arrow_schema();
    let query = plan.schema().clone();
    if query.fields().len() > schema.fields().len() {
        return Err(Error::new(
            crate::error::ErrorKind::Syntax,
            "INSERT has more expressions than target columns",
        ));
    }
    let mut exprs = Vec::with_capacity(schema.fields().len());
    for (i, field) in schema.fields().iter().enumerate() {
        exprs.push(if i < query.fields().len() {
            let (qualifier, f) = query.qualified_field(i);
            cast(
                datafusion::logical_expr::Expr::Column(datafusion::common::Column::new(
                    qualifier.cloned(),
                    f.name(),
                )),
                field.data_type().clone(),
            )
            .alias(field.name())
        } else if field.is_nullable() {
            cast(
                lit(datafusion::common::ScalarValue::Null),
                field.data_type().clone(),
            )
            .alias(field.name())
        } else {
            return Err(Error::new(
                crate::error::ErrorKind::NotNullViolation,
                format!(
                    "null value in column \"{}\" violates not-null constraint: the query has no value for it",
                    field.name()
                ),
            ));
        });
    }
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// `INSERT INTO t REPLACE WHERE pred SELECT ...`: one commit that removes the rows matching `pred`
/// and adds the query's rows (which must all match it), so reloading a day is idempotent.
pub async fn insert_replace_where(
    cx: &mut PlanContext<'_>,
    table: &ast::ObjectName,
    mut predicate: Expr,
    mut query: Box<ast::Query>,
) -> Result<QueryOutput> {
    let table_ref = resolve_table(table, cx.default_schema)?;
    let (_turn, target) = cx.load_for_rewrite(&table_ref).await?;
    unqualify(&mut predicate, &table_ref, None);
    let versioned = super::timetravel::resolve(cx, query.as_mut()).await?;
    let ctx = versioned.as_ref().unwrap_or(cx.df);
    let planned =
        super::planned::plan_statement(ctx, cx.settings, ast::Statement::Query(query)).await?;
    let target_schema = crate::delta::table_arrow_schema(&target)?;
    super::assignment_types::check_by_position(&planned.plan, &target_schema)?;
    let input = columns_by_position(&target, planned.plan.clone())?;
    let input = super::column_input::checked_rows(input, target_schema.as_ref())?;
    let exprs = super::write_exprs::WriteExprs::over_table(ctx.state(), &target_schema)?;
    let write = crate::delta::operable(&target)?
        .write(Vec::new())
        .with_input_plan(input)
        .with_session_state(exprs.session())
        .with_save_mode(deltalake::protocol::SaveMode::Overwrite);
    let table = exprs
        .condition(&predicate.to_string())?
        .apply(
            write,
            |w, e| w.with_replace_where(e),
            |w, t| w.with_replace_where(t),
        )
        .await?;
    planned.report(cx.notices);
    let rows = crate::delta::last_commit_metric(&table, &["num_added_rows"])
        .await
        .unwrap_or(0) as u64;
    Ok(QueryOutput::Command(CommandTag::Insert(rows)))
}

/// Whether `expr` holds a subquery (IN, EXISTS or scalar), which delta-rs's UPDATE and DELETE
/// predicates cannot evaluate.
pub(super) fn has_subquery(expr: &Expr) -> bool {
    let found = sqlparser::ast::visit_expressions(expr, |e| match e {
        Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => {
            std::ops::ControlFlow::Break(())
        }
        _ => std::ops::ControlFlow::Continue(()),
    });
    found.is_break()
}

fn subquery_unsupported(statement: &str) -> Error {
    Error::unsupported(format!(
        "subqueries in {statement} are supported only as a condition `col IN (SELECT ...)` of the WHERE (ANDed with the others)"
    ))
    .with_hint(format!(
        "join the other table with {}, or use MERGE",
        if statement == "UPDATE" {
            "UPDATE ... FROM"
        } else {
            "DELETE ... USING"
        }
    ))
}

/// A generated column's expression over the updated row: the columns an UPDATE assigns are
/// replaced by their new values.
/// The other columns are qualified with `alias` when given (a MERGE's target).
pub(super) fn generated_value(
    expression: &str,
    assigned: &std::collections::HashMap<String, Expr>,
    alias: Option<&str>,
) -> Result<Expr> {
    let mut expr = super::names::parse_stored_expression(expression)?;
    let _ = sqlparser::ast::visit_expressions_mut(&mut expr, |e| {
        if let Expr::Identifier(ident) = e {
            if let Some(value) = assigned.get(&normalize_ident(ident)) {
                *e = Expr::Nested(Box::new(value.clone()));
            } else if let Some(alias) = alias {
                *e = Expr::CompoundIdentifier(vec![
                    Ident::with_quote('"', alias),
                    Ident::with_quote('"', normalize_ident(ident)),
                ]);
            }
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(expr)
}

/// 428C9 for a SET of a generated column.
pub(super) fn generated_assigned(column: &str) -> Error {
    Error::new(
        crate::error::ErrorKind::GeneratedAlways,
        format!("column \"{column}\" can only be updated to DEFAULT"),
    )
    .with_detail(format!("Column \"{column}\" is a generated column."))
}
