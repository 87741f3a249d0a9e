//! `ALTER TABLE ... RENAME TO` and `ALTER VIEW ... RENAME TO`: what dbt runs to swap a freshly
//! built model into place. As in PostgreSQL, ALTER TABLE renames views too (dbt renames both
//! with it), the views that read the renamed relation follow it (their stored queries are
//! rewritten to the new name), and a qualified new name moves the relation to that schema (as
//! Spark's RENAME TO does). A managed table's folder is renamed in one step; an external
//! table only changes its catalog entry.

use std::ops::ControlFlow;

use sqlparser::ast::{self, ObjectName, ObjectNamePart, visit_relations_mut};

use super::names::{normalize_ident, resolve_table};
use super::{PlanContext, views};
use crate::catalog::{TableRef, ViewDef};
use crate::error::{Error, ErrorKind, Result};
use crate::output::{CommandTag, Notice, QueryOutput};

/// Which statement asked: ALTER TABLE renames tables and views, ALTER VIEW only views.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `ALTER TABLE`.
    Table,
    /// `ALTER VIEW`.
    View,
}

/// Renames the relation `name` to `to`.
pub async fn rename(
    cx: &mut PlanContext<'_>,
    kind: Kind,
    name: &ObjectName,
    if_exists: bool,
    to: &ObjectName,
) -> Result<QueryOutput> {
    let tag = match kind {
        Kind::Table => "ALTER TABLE",
        Kind::View => "ALTER VIEW",
    };
    let from = resolve_table(name, cx.default_schema)?;
    let target = match to.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => TableRef {
            schema: from.schema.clone(),
            table: normalize_ident(ident),
        },
        _ => resolve_table(to, cx.default_schema)?,
    };
    let _ddl = cx.catalog.lock_ddl().await;
    let is_view = cx.catalog.view(&from).is_some();
    let is_table = cx.catalog.table_exists(&from);
    if !is_view && !is_table {
        if if_exists {
            cx.notices.push(Notice::note(
                "00000",
                format!("relation \"{}\" does not exist, skipping", from.table),
            ));
            return Ok(QueryOutput::Command(CommandTag::Other(tag.into())));
        }
        return Err(Error::undefined_table(&from.table));
    }
    if kind == Kind::View && !is_view {
        return Err(views::wrong_kind(&from.table, "a view", "ALTER TABLE"));
    }
    if cx.catalog.table_exists(&target) || cx.catalog.view(&target).is_some() {
        return Err(Error::new(
            ErrorKind::DuplicateTable,
            format!("relation \"{}\" already exists", target.table),
        ));
    }
    if !cx.catalog.schema_exists(&target.schema) {
        return Err(Error::new(
            ErrorKind::UndefinedSchema,
            format!("schema \"{}\" does not exist", target.schema),
        ));
    }
    // The views that read the relation follow it to its new name.
    let followers = cx
        .catalog
        .dependent_views(&from)
        .iter()
        .map(|view| follow(view, &from, &target))
        .collect::<Result<Vec<_>>>()?;
    if is_view {
        cx.catalog.rename_view(&from, &target, followers).await?;
    } else {
        // Wait for the table's writers; none starts while the folder moves.
        let (_turn, _table) = cx.load_for_rewrite(&from).await?;
        cx.catalog.rename_table(&from, &target, followers).await?;
    }
    Ok(QueryOutput::Command(CommandTag::Other(tag.into())))
}

/// A view that reads `from`, reading `to` instead.
fn follow(view: &ViewDef, from: &TableRef, to: &TableRef) -> Result<ViewDef> {
    let mut statements = sqlparser::parser::Parser::parse_sql(
        &crate::dialect::LakehouseDialect::default(),
        &view.query,
    )
    .map_err(|e| Error::internal(format!("stored view {} does not parse: {e}", view.name)))?;
    let Some(ast::Statement::Query(query)) = statements.first_mut() else {
        return Err(Error::internal(format!(
            "stored view {} is not a query",
            view.name
        )));
    };
    let _ = visit_relations_mut(query, |name: &mut ObjectName| {
        if resolve_table(name, &view.schema).is_ok_and(|r| &r == from) {
            *name = ObjectName::from(vec![
                ast::Ident::with_quote('"', &to.schema),
                ast::Ident::with_quote('"', &to.table),
            ]);
        }
        ControlFlow::<()>::Continue(())
    });
    let mut followed = view.clone();
    followed.query = query.to_string();
    for dependency in followed.depends_on.iter_mut() {
        if dependency == from {
            *dependency = to.clone();
        }
    }
    Ok(followed)
}
