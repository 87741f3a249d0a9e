//! `UPDATE`, `DELETE` and `TRUNCATE` of a session's temporary tables (scratch tables people fix
//! up in psql; they were 0A000). A temporary table is DataFusion's in-memory table, which changes
//! its rows in place (`MemTable::update` / `delete_from`): the statement is planned as DataFusion
//! plans DML and answers PostgreSQL's command tag with the count of rows it changed.
//! A subquery, `UPDATE ... FROM` and `DELETE ... USING` are 0A000 (the table evaluates its
//! conditions row by row and cannot see them), `RETURNING` is refused by the planner.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::UInt64Type;
use datafusion::catalog::SchemaProvider;
use datafusion::physical_plan::ExecutionPlan;
use futures::TryStreamExt;
use sqlparser::ast::{self, FromTable, ObjectName, TableFactor};
use std::sync::Arc;

use super::PlanContext;
use super::names::normalize_ident;
use super::temp_tables::is_temp_name;
use crate::error::{Error, Result};
use crate::output::{CommandTag, QueryOutput};

/// Whether `statement` is an UPDATE, DELETE or TRUNCATE whose every target is a temporary table
/// (as `temp_tables::qualify` names them).
pub fn writes_temp_tables(statement: &ast::Statement) -> bool {
    let targets = targets(statement);
    !targets.is_empty() && targets.iter().all(is_temp_name)
}

fn targets(statement: &ast::Statement) -> Vec<ObjectName> {
    let table = |factor: &TableFactor| match factor {
        TableFactor::Table { name, .. } => Some(name.clone()),
        _ => None,
    };
    match statement {
        ast::Statement::Update(update) => table(&update.table.relation).into_iter().collect(),
        ast::Statement::Delete(delete) => {
            let (FromTable::WithFromKeyword(tables) | FromTable::WithoutKeyword(tables)) =
                &delete.from;
            tables.iter().filter_map(|t| table(&t.relation)).collect()
        }
        ast::Statement::Truncate(truncate) => truncate
            .table_names
            .iter()
            .map(|t| t.name.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// Runs an UPDATE, DELETE or TRUNCATE of temporary tables (see [`writes_temp_tables`]).
pub async fn write(cx: &mut PlanContext<'_>, statement: ast::Statement) -> Result<QueryOutput> {
    if let ast::Statement::Truncate(truncate) = &statement {
        let state = cx.df.state();
        for target in &truncate.table_names {
            let name = target
                .name
                .0
                .last()
                .and_then(|part| part.as_ident())
                .map(normalize_ident)
                .unwrap_or_default();
            if let Some(table) = cx.temp.table(&name).await? {
                let emptied = table.delete_from(&state, Vec::new()).await?;
                changed_rows(emptied, state.task_ctx()).await?;
            }
        }
        return Ok(QueryOutput::Command(CommandTag::Other(
            "TRUNCATE TABLE".into(),
        )));
    }
    refuse_row_sources(&statement)?;
    let update = matches!(statement, ast::Statement::Update(_));
    let planned = super::planned::plan_statement(cx.df, cx.settings, statement).await?;
    let (physical, task) = planned.physical(cx.df, cx.notices).await?;
    let rows = changed_rows(physical, task).await?;
    Ok(QueryOutput::Command(if update {
        CommandTag::Update(rows)
    } else {
        CommandTag::Delete(rows)
    }))
}

/// Refuses what the in-memory table cannot take: its UPDATE and DELETE evaluate a condition row
/// by row, so a subquery (which the planner turns into a join the table never sees: every row
/// matched) or rows from another relation (`FROM`, `USING`) would change the wrong rows.
fn refuse_row_sources(statement: &ast::Statement) -> Result<()> {
    let other_relations = match statement {
        ast::Statement::Update(update) => update.from.is_some() || !update.table.joins.is_empty(),
        ast::Statement::Delete(delete) => delete.using.is_some() || delete.tables.len() > 1,
        _ => false,
    };
    let mut subquery = false;
    let _ = ast::visit_expressions(statement, |expr: &ast::Expr| {
        if matches!(
            expr,
            ast::Expr::Subquery(_) | ast::Expr::InSubquery { .. } | ast::Expr::Exists { .. }
        ) {
            subquery = true;
            return std::ops::ControlFlow::Break(());
        }
        std::ops::ControlFlow::Continue(())
    });
    if other_relations || subquery {
        return Err(Error::unsupported(
            "UPDATE / DELETE of a temporary table takes conditions and values over its own columns only (no subquery, FROM or USING)",
        )
        .with_hint("compute the rows into another temporary table, or use a regular (Delta) table"));
    }
    Ok(())
}

/// Runs a DML plan and reads the count of rows it changed (its one `count` value).
async fn changed_rows(
    plan: Arc<dyn ExecutionPlan>,
    task: Arc<datafusion::execution::TaskContext>,
) -> Result<u64> {
    let batches: Vec<_> = datafusion::physical_plan::execute_stream(plan, task)?
        .try_collect()
        .await?;
    Ok(batches
        .iter()
        .filter(|batch| batch.num_columns() > 0)
        .filter_map(|batch| {
            let counts = batch.column(0).as_primitive_opt::<UInt64Type>()?;
            Some((0..counts.len()).map(|i| counts.value(i)).sum::<u64>())
        })
        .sum())
}
