//! `CREATE TEMP TABLE`, and the name resolution that puts a session's temporary tables first.
//!
//! As in PostgreSQL, an unqualified name that matches one of the session's temporary tables
//! means that table, ahead of every `search_path` schema (a CTE of the name still wins); the
//! statement is rewritten to name `pg_temp.t` before anything else plans it. Temporary tables
//! take `INSERT`, `UPDATE`, `DELETE` and `TRUNCATE` (`temp_writes`), are read anywhere a table
//! can be (joins, MERGE and `DELETE ... USING` sources) and are dropped with `DROP TABLE` or at
//! disconnect. MERGE INTO and ALTER of one are 0A000: they are Delta operations and a temporary
//! table is not a Delta table.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::catalog::SchemaProvider;
use datafusion::datasource::MemTable;
use futures::TryStreamExt;
use sqlparser::ast::{self, Ident, ObjectName, ObjectNamePart, Query, VisitMut, VisitorMut};

use super::PlanContext;
use super::names::normalize_ident;
use crate::catalog::{TEMP_SCHEMA, TempTables};
use crate::dialect::Statement;
use crate::error::{Error, ErrorKind, Result};
use crate::output::{CommandTag, QueryOutput};

/// Rewrites every unqualified reference to one of the session's temporary tables in
/// `statement` to `pg_temp.<name>`.
pub fn qualify(statement: &mut Statement, temp: &TempTables) {
    if temp.table_names().is_empty() {
        return;
    }
    let mut qualifier = Qualifier {
        temp,
        ctes: Vec::new(),
    };
    use sqlparser::ast::Statement as S;
    let _ = match statement {
        // What a CREATE names is created where it says, never in pg_temp; its query reads.
        Statement::Sql(sql) => match sql.as_mut() {
            S::CreateView(create) => create.query.visit(&mut qualifier),
            S::CreateTable(create) => match create.query.as_mut() {
                Some(query) => query.visit(&mut qualifier),
                None => ControlFlow::Continue(()),
            },
            S::Drop {
                object_type: ast::ObjectType::Table,
                names,
                ..
            } => {
                names.iter_mut().for_each(|name| qualifier.qualify(name));
                ControlFlow::Continue(())
            }
            other => other.visit(&mut qualifier),
        },
        Statement::Merge { merge, .. } => merge.visit(&mut qualifier),
        Statement::InsertReplaceWhere { table, query, .. } => {
            qualifier.qualify(table);
            query.visit(&mut qualifier)
        }
        Statement::CreateTable(create) => match create.query.as_mut() {
            Some(query) => query.visit(&mut qualifier),
            None => ControlFlow::Continue(()),
        },
        Statement::DescribeHistory { table, .. }
        | Statement::DescribeDetail { table }
        | Statement::Restore { table, .. }
        | Statement::Vacuum { table, .. }
        | Statement::UnsetTblProperties { table, .. }
        | Statement::ShowColumns { table }
        | Statement::DescribeTable { table, .. }
        | Statement::ShowCreateTable { table } => {
            qualifier.qualify(table);
            ControlFlow::Continue(())
        }
        _ => ControlFlow::Continue(()),
    };
}

/// Refuses the statements that would change a temporary table other than by INSERT, UPDATE,
/// DELETE or TRUNCATE (they are Delta operations).
pub fn refuse_delta_writes(statement: &Statement) -> Result<()> {
    use sqlparser::ast::Statement as S;
    let inserts = matches!(statement, Statement::Sql(s) if matches!(s.as_ref(), S::Insert(_)));
    let in_memory =
        matches!(statement, Statement::Sql(s) if super::temp_writes::writes_temp_tables(s));
    if inserts || in_memory {
        return Ok(());
    }
    let temp_target = statement.written_tables().into_iter().find(is_temp_name);
    match temp_target {
        Some(name) => Err(Error::unsupported(format!(
            "{} is not supported on temporary table \"{}\"",
            statement.command_name(),
            name.0
                .last()
                .and_then(ObjectNamePart::as_ident)
                .map(normalize_ident)
                .unwrap_or_default()
        ))
        .with_hint(
            "temporary tables take INSERT, UPDATE, DELETE, TRUNCATE and DROP; use a regular (Delta) table for the rest",
        )),
        None => Ok(()),
    }
}

/// Refuses a view over a temporary table: the view is stored for every session, the table
/// lives in this one (PostgreSQL would make the view temporary, which views here cannot be).
pub fn refuse_views_of_temp_tables(statement: &Statement) -> Result<()> {
    let Statement::Sql(sql) = statement else {
        return Ok(());
    };
    let ast::Statement::CreateView(create) = sql.as_ref() else {
        return Ok(());
    };
    let mut found = None;
    let _ = ast::visit_relations(&create.query, |name: &ObjectName| {
        if is_temp_name(name) {
            found = Some(name.clone());
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    match found {
        Some(name) => Err(Error::unsupported(format!(
            "cannot create a view of temporary table {name}: views are stored for every session"
        ))
        .with_hint("create the view over a regular table, or use a CTE in the session")),
        None => Ok(()),
    }
}

/// Whether `name` is `pg_temp.t` (as written, or as [`qualify`] rewrote it).
pub fn is_temp_name(name: &ObjectName) -> bool {
    name.0.len() == 2
        && name.0[0]
            .as_ident()
            .is_some_and(|s| normalize_ident(s) == TEMP_SCHEMA)
}

/// `CREATE TEMP TABLE t (cols)` and `CREATE TEMP TABLE t AS query`.
pub async fn create(cx: &mut PlanContext<'_>, create: ast::CreateTable) -> Result<QueryOutput> {
    let table = temp_table_name(&create.name)?;
    if create
        .on_commit
        .is_some_and(|c| c != ast::OnCommit::PreserveRows)
    {
        return Err(Error::unsupported(
            "ON COMMIT DELETE ROWS / DROP is not supported: every statement commits by itself",
        ));
    }
    if cx.temp.table_exist(&table) {
        if create.if_not_exists {
            cx.notices.push(crate::output::Notice::note(
                "42P07",
                format!("relation \"{table}\" already exists, skipping"),
            ));
            return Ok(QueryOutput::Command(CommandTag::Other(
                "CREATE TABLE".into(),
            )));
        }
        return Err(Error::new(
            ErrorKind::DuplicateTable,
            format!("relation \"{table}\" already exists"),
        ));
    }
    if let Some(constraint) = create.constraints.first() {
        return Err(Error::unsupported(format!(
            "{constraint}: constraints are not supported on temporary tables"
        )));
    }
    let (provider, rows) = match &create.query {
        Some(query) => {
            let mut statement = ast::Statement::Query(query.clone());
            let versioned = super::timetravel::resolve(cx, &mut statement).await?;
            let ctx = versioned.as_ref().unwrap_or(cx.df);
            let planned = super::planned::plan_statement(ctx, cx.settings, statement).await?;
            let (physical, task) = planned.physical(ctx, cx.notices).await?;
            let schema = physical.schema();
            let batches: Vec<_> = datafusion::physical_plan::execute_stream(physical, task)?
                .try_collect()
                .await?;
            let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
            (MemTable::try_new(schema, vec![batches])?, Some(rows))
        }
        None => {
            let schema = super::table_columns::columns_schema(cx, &create.columns).await?;
            (MemTable::try_new(Arc::new(schema), vec![vec![]])?, None)
        }
    };
    cx.temp.register_table(table, Arc::new(provider))?;
    Ok(QueryOutput::Command(match rows {
        Some(rows) => CommandTag::Select(rows),
        None => CommandTag::Other("CREATE TABLE".into()),
    }))
}

/// `DROP TABLE pg_temp.t`: false when there is no such temporary table.
pub fn drop(temp: &TempTables, name: &ObjectName) -> Result<bool> {
    let table = name
        .0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map(normalize_ident)
        .unwrap_or_default();
    Ok(temp.deregister_table(&table)?.is_some())
}

/// The table name of a CREATE TEMP TABLE: unqualified or in `pg_temp`, as PostgreSQL allows.
fn temp_table_name(name: &ObjectName) -> Result<String> {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(ObjectNamePart::as_ident)
        .map(normalize_ident)
        .collect();
    match parts.as_slice() {
        [table] => Ok(table.clone()),
        [schema, table] if schema == TEMP_SCHEMA => Ok(table.clone()),
        _ => Err(Error::new(
            ErrorKind::InvalidTableDefinition,
            "cannot create temporary relation in non-temporary schema",
        )),
    }
}

struct Qualifier<'a> {
    temp: &'a TempTables,
    /// CTE names in scope, innermost query last: a CTE shadows a temporary table.
    ctes: Vec<Vec<String>>,
}

impl Qualifier<'_> {
    fn qualify(&self, name: &mut ObjectName) {
        let [part] = name.0.as_slice() else {
            return;
        };
        let Some(ident) = part.as_ident() else {
            return;
        };
        let bare = normalize_ident(ident);
        if self.ctes.iter().flatten().any(|c| *c == bare) || !self.temp.table_exist(&bare) {
            return;
        }
        *name = ObjectName::from(vec![Ident::new(TEMP_SCHEMA), Ident::with_quote('"', bare)]);
    }
}

impl VisitorMut for Qualifier<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let names = query
            .with
            .iter()
            .flat_map(|with| with.cte_tables.iter())
            .map(|cte| normalize_ident(&cte.alias.name))
            .collect();
        self.ctes.push(names);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
        self.ctes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> ControlFlow<()> {
        self.qualify(relation);
        ControlFlow::Continue(())
    }
}
