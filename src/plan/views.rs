//! Views in statements: `CREATE [OR REPLACE] VIEW`, `DROP VIEW`, the dependency rules of DROP,
//! and the expansion that puts a view's query in place of its name before a statement is
//! planned (so time travel, hints and our PostgreSQL rewrites apply inside views as anywhere).

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{
    self, Ident, ObjectName, Query, TableAlias, TableAliasColumnDef, TableFactor, VisitMut,
    VisitorMut,
};

use super::PlanContext;
use super::names::resolve_table;
use crate::catalog::{DeltaCatalog, TableRef, ViewDef};
use crate::dialect::Statement;
use crate::error::{Error, ErrorKind, Result};
use crate::output::{CommandTag, Notice, QueryOutput};

/// How deep views may nest (a view of a view of ...) before the expansion calls it a cycle.
const MAX_NESTING: usize = 32;

/// Replaces every view named in `statement` by its query (recursively), and refuses statements
/// that would write to a view.
pub fn expand(
    statement: &mut Statement,
    catalog: &DeltaCatalog,
    default_schema: &str,
) -> Result<()> {
    let creates = matches!(statement, Statement::CreateTable(_));
    for name in statement.written_tables().into_iter().filter(|_| !creates) {
        if let Ok(target) = resolve_table(&name, default_schema)
            && catalog.view(&target).is_some()
        {
            return Err(Error::unsupported(format!(
                "cannot write to view \"{}\": views are read-only",
                target.table
            ))
            .with_hint("write to the tables the view reads"));
        }
    }
    let mut expander = Expander {
        catalog,
        default_schema,
        ctes: Vec::new(),
        depth: Vec::new(),
    };
    let flow = match statement {
        Statement::Sql(sql) => sql.visit(&mut expander),
        Statement::Merge { merge, .. } => merge.visit(&mut expander),
        Statement::InsertReplaceWhere { query, .. } => query.visit(&mut expander),
        Statement::CreateTable(create) => match create.query.as_mut() {
            Some(query) => query.visit(&mut expander),
            None => ControlFlow::Continue(()),
        },
        _ => ControlFlow::Continue(()),
    };
    match flow {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct Expander<'a> {
    catalog: &'a DeltaCatalog,
    default_schema: &'a str,
    /// The CTE names in scope, innermost query last: a CTE shadows a view of its name.
    ctes: Vec<Vec<String>>,
    /// The views being expanded, outermost first (a view reached again is a cycle).
    depth: Vec<TableRef>,
}

impl Expander<'_> {
    fn view_named(&self, name: &ObjectName) -> Option<Arc<ViewDef>> {
        if name.0.len() == 1
            && let Some(ident) = name.0[0].as_ident()
        {
            let bare = super::names::normalize_ident(ident);
            if self.ctes.iter().flatten().any(|c| *c == bare) {
                return None;
            }
        }
        let target = resolve_table(name, self.default_schema).ok()?;
        self.catalog.view(&target)
    }
}

impl VisitorMut for Expander<'_> {
    type Break = Error;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Self::Break> {
        self.ctes.push(cte_names(query));
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<Self::Break> {
        self.ctes.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Self::Break> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            version,
            ..
        } = factor
        else {
            return ControlFlow::Continue(());
        };
        let Some(view) = self.view_named(name) else {
            return ControlFlow::Continue(());
        };
        if version.is_some() {
            return ControlFlow::Break(
                Error::unsupported(format!(
                    "time travel applies to tables, not to view \"{}\"",
                    view.name
                ))
                .with_hint("put VERSION AS OF on the tables inside the view's query"),
            );
        }
        if self.depth.len() >= MAX_NESTING || self.depth.contains(&view.table_ref()) {
            return ControlFlow::Break(Error::new(
                ErrorKind::StatementTooComplex,
                format!(
                    "infinite recursion detected in rules for relation \"{}\"",
                    view.name
                ),
            ));
        }
        let query = match parse_query(&view.query) {
            Ok(q) => q,
            Err(e) => return ControlFlow::Break(e),
        };
        let alias = alias.clone().unwrap_or_else(|| TableAlias {
            explicit: false,
            name: Ident::new(&view.name),
            columns: Vec::new(),
            at: None,
        });
        // Columns the alias does not name keep the view's names (PostgreSQL's `v AS x(a)`).
        let mut columns = alias.columns.clone();
        columns.extend(
            view.columns
                .iter()
                .skip(columns.len())
                .map(|c| TableAliasColumnDef {
                    name: Ident::with_quote('"', &c.name),
                    data_type: None,
                }),
        );
        let alias = TableAlias { columns, ..alias };
        // Expand the view's own query now (views of views), with its own scope.
        let mut query = query;
        self.depth.push(view.table_ref());
        let outer_ctes = std::mem::take(&mut self.ctes);
        let flow = query.visit(self);
        self.ctes = outer_ctes;
        self.depth.pop();
        if let ControlFlow::Break(e) = flow {
            return ControlFlow::Break(e);
        }
        *factor = TableFactor::Derived {
            lateral: false,
            subquery: query,
            alias: Some(alias),
            sample: None,
        };
        ControlFlow::Continue(())
    }
}

/// The names a query's WITH clause defines (they shadow tables and views of the same name).
fn cte_names(query: &Query) -> Vec<String> {
    query
        .with
        .as_ref()
        .map(|with| {
            with.cte_tables
                .iter()
                .map(|cte| super::names::normalize_ident(&cte.alias.name))
                .collect()
        })
        .unwrap_or_default()
}

fn parse_query(sql: &str) -> Result<Box<Query>> {
    match crate::dialect::parse_sql(sql)?.into_iter().next() {
        Some(Statement::Sql(statement)) => match *statement {
            ast::Statement::Query(query) => Ok(query),
            _ => Err(Error::internal("a stored view is not a query")),
        },
        _ => Err(Error::internal("a stored view is not a query")),
    }
}

/// `CREATE [OR REPLACE] VIEW name [(columns)] AS query`.
pub async fn create_view(cx: &mut PlanContext<'_>, create: ast::CreateView) -> Result<QueryOutput> {
    if create.materialized {
        return Err(Error::unsupported(
            "CREATE MATERIALIZED VIEW is not supported; use CREATE TABLE ... AS SELECT",
        ));
    }
    if create.temporary {
        return Err(Error::unsupported(
            "CREATE TEMPORARY VIEW is not supported; create a view in a schema",
        ));
    }
    let name = resolve_table(&create.name, cx.default_schema)?;
    let mut query = create.query;
    let depends_on = qualify_relations(&mut query, cx.catalog, cx.default_schema)?;
    // Plan the query (views inside it expanded) for its columns; nothing runs.
    let mut planned_query = Statement::Sql(Box::new(ast::Statement::Query(query.clone())));
    expand(&mut planned_query, cx.catalog, cx.default_schema)?;
    let Statement::Sql(planned_query) = planned_query else {
        return Err(Error::internal("view query changed kind"));
    };
    let mut sql = *planned_query;
    let versioned = super::timetravel::resolve(cx, &mut sql).await?;
    let ctx = versioned.as_ref().unwrap_or(cx.df);
    let plan = super::planned::logical_plan(&ctx.state(), sql).await?;
    let plan = super::planned::signed_result_types(plan)?;
    let mut columns = ViewDef::columns_of(plan.schema().as_arrow());
    if create.columns.len() > columns.len() {
        return Err(Error::syntax(
            "CREATE VIEW specifies more column names than columns",
        ));
    }
    for column in columns.iter_mut() {
        column.name = crate::dialect::display_name(&column.name).to_string();
    }
    for (column, given) in columns.iter_mut().zip(&create.columns) {
        column.name = super::names::normalize_ident(&given.name);
    }
    let mut seen = BTreeSet::new();
    for column in &columns {
        if !seen.insert(column.name.clone()) {
            return Err(Error::new(
                ErrorKind::DuplicateColumn,
                format!("column \"{}\" specified more than once", column.name),
            ));
        }
    }
    let def = ViewDef {
        schema: name.schema.clone(),
        name: name.table.clone(),
        query: query.to_string(),
        columns,
        depends_on,
    };
    let _ddl = cx.catalog.lock_ddl().await;
    if create.if_not_exists && cx.catalog.view(&name).is_some() {
        cx.notices.push(Notice::note(
            "42P07",
            format!("relation \"{}\" already exists, skipping", name.table),
        ));
        return Ok(QueryOutput::Command(CommandTag::Other(
            "CREATE VIEW".into(),
        )));
    }
    cx.catalog.create_view(def, create.or_replace).await?;
    Ok(QueryOutput::Command(CommandTag::Other(
        "CREATE VIEW".into(),
    )))
}

/// Qualifies the catalog tables and views `query` names with their schema (so the view reads the
/// same relations whatever the reader's search_path), and returns them.
fn qualify_relations(
    query: &mut Query,
    catalog: &DeltaCatalog,
    default_schema: &str,
) -> Result<Vec<TableRef>> {
    struct Qualifier<'a> {
        catalog: &'a DeltaCatalog,
        default_schema: &'a str,
        ctes: Vec<Vec<String>>,
        found: Vec<TableRef>,
    }
    impl VisitorMut for Qualifier<'_> {
        type Break = ();
        fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
            self.ctes.push(cte_names(query));
            ControlFlow::Continue(())
        }
        fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
            self.ctes.pop();
            ControlFlow::Continue(())
        }
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            let TableFactor::Table {
                name, args: None, ..
            } = factor
            else {
                return ControlFlow::Continue(());
            };
            if name.0.len() == 1
                && let Some(ident) = name.0[0].as_ident()
                && self
                    .ctes
                    .iter()
                    .flatten()
                    .any(|c| *c == super::names::normalize_ident(ident))
            {
                return ControlFlow::Continue(());
            }
            let Ok(target) = resolve_table(name, self.default_schema) else {
                return ControlFlow::Continue(());
            };
            if self.catalog.table_exists(&target) || self.catalog.view(&target).is_some() {
                *name = ObjectName::from(vec![
                    Ident::with_quote('"', &target.schema),
                    Ident::with_quote('"', &target.table),
                ]);
                if !self.found.contains(&target) {
                    self.found.push(target);
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut qualifier = Qualifier {
        catalog,
        default_schema,
        ctes: Vec::new(),
        found: Vec::new(),
    };
    let _ = query.visit(&mut qualifier);
    Ok(qualifier.found)
}

/// `DROP VIEW [IF EXISTS] v, ... [CASCADE]`.
pub async fn drop_views(
    cx: &mut PlanContext<'_>,
    names: &[ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Result<QueryOutput> {
    let mut dropped = Vec::new();
    for name in names {
        let view = resolve_table(name, cx.default_schema)?;
        if cx.catalog.view(&view).is_none() {
            if cx.catalog.table_exists(&view) {
                return Err(wrong_kind(&view.table, "a view", "DROP TABLE"));
            }
            if if_exists {
                cx.notices.push(Notice::note(
                    "00000",
                    format!("view \"{}\" does not exist, skipping", view.table),
                ));
                continue;
            }
            return Err(Error::new(
                ErrorKind::UndefinedTable,
                format!("view \"{}\" does not exist", view.table),
            ));
        }
        dropped.extend(dependents_to_drop(cx, &view, "view", cascade)?);
        dropped.push(view);
    }
    cx.catalog.drop_views(&dropped).await?;
    Ok(QueryOutput::Command(CommandTag::Other("DROP VIEW".into())))
}

/// The views that depend on `relation` (transitively), which a DROP ... CASCADE drops too (with
/// a NOTICE each, as PostgreSQL's); without CASCADE their existence is a 2BP01 error.
pub fn dependents_to_drop(
    cx: &mut PlanContext<'_>,
    relation: &TableRef,
    kind: &str,
    cascade: bool,
) -> Result<Vec<TableRef>> {
    let mut found: Vec<TableRef> = Vec::new();
    let mut pending = vec![relation.clone()];
    while let Some(next) = pending.pop() {
        for view in cx.catalog.dependent_views(&next) {
            let name = view.table_ref();
            if !found.contains(&name) && name != *relation {
                found.push(name.clone());
                pending.push(name);
            }
        }
    }
    if found.is_empty() {
        return Ok(found);
    }
    if !cascade {
        let details: Vec<String> = found
            .iter()
            .map(|v| format!("view {} depends on {kind} {}", v.table, relation.table))
            .collect();
        return Err(Error::new(
            ErrorKind::DependentObjectsStillExist,
            format!(
                "cannot drop {kind} {} because other objects depend on it",
                relation.table
            ),
        )
        .with_detail(details.join("\n"))
        .with_hint("Use DROP ... CASCADE to drop the dependent objects too."));
    }
    for view in &found {
        cx.notices.push(Notice::note(
            "00000",
            format!("drop cascades to view {}", view.table),
        ));
    }
    Ok(found)
}

/// 42809: DROP TABLE on a view or DROP VIEW on a table.
pub fn wrong_kind(name: &str, what: &str, instead: &str) -> Error {
    Error::new(
        ErrorKind::WrongObjectType,
        format!("\"{name}\" is not {what}"),
    )
    .with_hint(format!("Use {instead} to remove it."))
}
