//! `RETURNING` on INSERT, UPDATE and DELETE: ORMs and drivers (SQLAlchemy, psycopg, JDBC's
//! generated keys) read the rows a write touched back in the same statement.
//!
//! A Delta commit does not hand rows back, so the statement's rows are computed first, at the
//! snapshot the commit then builds on: the rows an INSERT adds, the new values of the rows an
//! UPDATE matches, the rows a DELETE removes. The commit runs; a concurrent writer that touched
//! the same files makes it fail with 40001, so rows returned are always the rows written. The
//! RETURNING list is then evaluated over those rows, where the table's name (or its alias) names
//! them, exactly as PostgreSQL scopes it.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use sqlparser::ast::{self, Ident, SelectItem};

use super::PlanContext;
use super::names::normalize_ident;
use super::planned::{plan_statement, private_context};
use crate::error::{Error, Result};
use crate::output::{QueryOutput, RowSet};

/// The private catalog the statement's rows are registered in (invisible to user SQL).
const CATALOG: &str = "__deltagres_returning";
/// Its one schema.
const SCHEMA: &str = "r";

/// A write's RETURNING list, taken out of the statement, and what it names.
pub struct Returning {
    /// The RETURNING items.
    pub items: Vec<SelectItem>,
    /// The name the rows have inside it: the table's alias, or else its name.
    pub alias: String,
    /// The target table.
    pub table: ast::ObjectName,
}

/// Takes the RETURNING list out of an INSERT, UPDATE or DELETE (DataFusion's planner refuses
/// it; we evaluate it ourselves), and an INSERT's table alias with it.
pub fn take(statement: &mut ast::Statement) -> Option<Returning> {
    let last = |name: &ast::ObjectName| {
        name.0
            .last()
            .and_then(|p| p.as_ident())
            .map(normalize_ident)
            .unwrap_or_default()
    };
    let (items, alias, table) = match statement {
        ast::Statement::Insert(insert) => {
            let ast::TableObject::TableName(name) = &insert.table else {
                return None;
            };
            // `INSERT INTO t AS x`: the alias only names the table for RETURNING, and
            // DataFusion's planner refuses it, so it goes whether or not there is a list.
            let alias = insert.table_alias.take().map(|a| normalize_ident(&a.alias));
            (insert.returning.take()?, alias, name.clone())
        }
        ast::Statement::Update(update) => {
            let ast::TableFactor::Table { name, alias, .. } = &update.table.relation else {
                return None;
            };
            let alias = alias.as_ref().map(|a| normalize_ident(&a.name));
            (update.returning.take()?, alias, name.clone())
        }
        ast::Statement::Delete(delete) => {
            let (ast::FromTable::WithFromKeyword(tables) | ast::FromTable::WithoutKeyword(tables)) =
                &delete.from;
            let ast::TableFactor::Table { name, alias, .. } = &tables.first()?.relation else {
                return None;
            };
            let alias = alias.as_ref().map(|a| normalize_ident(&a.name));
            (delete.returning.take()?, alias, name.clone())
        }
        _ => return None,
    };
    Some(Returning {
        alias: alias.unwrap_or_else(|| last(&table)),
        items,
        table,
    })
}

/// The command tag of a write that returns rows; the wire layer appends the row count.
pub fn tag(statement: &str) -> String {
    match statement {
        "INSERT" => "INSERT 0".into(),
        other => other.into(),
    }
}

/// A context where `relation` (a table provider) is reachable as `rows`, named `alias` in SQL
/// built by [`from_clause`].
fn context(cx: &PlanContext<'_>, relation: Arc<dyn TableProvider>) -> Result<SessionContext> {
    let schema = Arc::new(MemorySchemaProvider::new());
    schema.register_table("rows".into(), relation)?;
    private_context(cx.df.state(), CATALOG, SCHEMA, schema)
}

/// `FROM <the registered rows> AS "alias"`.
fn from_clause(alias: &str) -> String {
    format!(
        "FROM \"{CATALOG}\".\"{SCHEMA}\".\"rows\" AS {}",
        Ident::with_quote('"', alias)
    )
}

/// Runs `select_list` over `relation` (named `alias`), optionally filtered, and collects the rows.
/// Used to compute an UPDATE's new rows and a DELETE's removed rows at the commit's snapshot.
pub async fn collect_rows(
    cx: &PlanContext<'_>,
    relation: Arc<dyn TableProvider>,
    alias: &str,
    select_list: &str,
    predicate: Option<&ast::Expr>,
) -> Result<Vec<RecordBatch>> {
    let ctx = context(cx, relation)?;
    let mut sql = format!("SELECT {select_list} {}", from_clause(alias));
    if let Some(predicate) = predicate {
        sql.push_str(&format!(" WHERE {predicate}"));
    }
    Ok(ctx.sql(&sql).await?.collect().await?)
}

/// Evaluates the RETURNING list `items` over `rows` (shaped like the target table, `schema`),
/// where the table is named `alias`; the result columns are named as PostgreSQL names them.
pub async fn project(
    cx: &mut PlanContext<'_>,
    alias: &str,
    schema: SchemaRef,
    rows: Vec<RecordBatch>,
    items: &[SelectItem],
    tag: String,
) -> Result<QueryOutput> {
    // Shaped as the table stores them: an UPDATE's new values are cast as delta-rs casts them.
    let rows = rows
        .into_iter()
        .map(|batch| {
            let columns = batch
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(column, field)| datafusion::arrow::compute::cast(column, field.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            RecordBatch::try_new(schema.clone(), columns)
                .map_err(|e| Error::internal(format!("RETURNING rows: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let table = Arc::new(MemTable::try_new(schema, vec![rows])?);
    let ctx = context(cx, table)?;
    let statement = returning_query(alias, items)?;
    let planned = plan_statement(&ctx, cx.settings, statement).await?;
    let (physical, task) = planned.physical(&ctx, cx.notices).await?;
    let stream = datafusion::physical_plan::execute_stream(physical, task)?;
    Ok(QueryOutput::Rows(RowSet {
        schema: stream.schema(),
        stream,
        tag,
        plan: None,
        hints: Vec::new(),
    }))
}

/// The columns a RETURNING list yields over rows of `schema` (for Describe). `param_types` are
/// the parameters' types as the whole statement infers them: a parameter the list shares with
/// the statement (`VALUES ($1) RETURNING x + $1`) is bound with a value of that type at
/// execution, so the columns are described with it too.
pub async fn schema(
    cx: &PlanContext<'_>,
    alias: &str,
    schema: SchemaRef,
    items: &[SelectItem],
    param_types: &[Option<datafusion::arrow::datatypes::DataType>],
) -> Result<SchemaRef> {
    use datafusion::common::ScalarValue;
    let table = Arc::new(MemTable::try_new(schema, vec![vec![]])?);
    let ctx = context(cx, table)?;
    let mut plan =
        super::planned::logical_plan(&ctx.state(), returning_query(alias, items)?).await?;
    if !param_types.is_empty() {
        let typed_nulls: Vec<ScalarValue> = param_types
            .iter()
            .map(|t| {
                t.as_ref()
                    .and_then(|t| ScalarValue::try_from(t).ok())
                    .unwrap_or(ScalarValue::Null)
            })
            .collect();
        plan = plan.with_param_values(typed_nulls)?;
    }
    let plan = super::planned::signed_result_types(plan)?;
    Ok(plan.schema().inner().clone())
}

/// `SELECT <items> FROM rows AS alias`, with PostgreSQL's names for unnamed expressions.
fn returning_query(alias: &str, items: &[SelectItem]) -> Result<ast::Statement> {
    let list: Vec<String> = items.iter().map(ToString::to_string).collect();
    let sql = format!("SELECT {} {}", list.join(", "), from_clause(alias));
    match crate::dialect::parse_sql(&sql)?.pop() {
        Some(crate::dialect::Statement::Sql(statement)) => Ok(*statement),
        _ => Err(Error::internal("RETURNING did not parse as a query")),
    }
}
