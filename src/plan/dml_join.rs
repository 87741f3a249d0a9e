//! PostgreSQL's `UPDATE t SET ... FROM s WHERE ...` and `DELETE FROM t USING s WHERE ...` (what
//! dbt's snapshots and its `delete+insert` strategy send), planned as the MERGE they mean:
//! `MERGE INTO t USING s ON <where> WHEN MATCHED THEN UPDATE SET ... | DELETE`, one commit.
//!
//! One difference from PostgreSQL, on purpose: where two source rows join one target row,
//! PostgreSQL's UPDATE takes either (its documentation calls the result unpredictable); here it
//! is 21000, as in MERGE. A DELETE matched several times deletes the row once, as in PostgreSQL.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, Expr, Ident, MergeAction, TableFactor, TableWithJoins, UpdateTableFromKind,
    visit_expressions_mut,
};

use super::names::normalize_ident;
use super::{PlanContext, resolve_table};
use crate::error::{Error, Result};
use crate::output::{CommandTag, QueryOutput};

/// `UPDATE target SET ... FROM source WHERE cond` as a MERGE.
pub async fn update_from(cx: &mut PlanContext<'_>, update: ast::Update) -> Result<QueryOutput> {
    let from = match update.from {
        Some(UpdateTableFromKind::AfterSet(from) | UpdateTableFromKind::BeforeSet(from)) => from,
        None => return Err(Error::internal("UPDATE without FROM")),
    };
    let source = single_source(from, "UPDATE ... FROM")?;
    let target = target_factor(&update.table)?;
    let mut merge = skeleton("WHEN MATCHED THEN UPDATE SET placeholder = 1")?;
    let names = Names::of(&target, &source, cx.default_schema)?;
    if let Some(clause) = merge.clauses.first_mut()
        && let MergeAction::Update(set) = &mut clause.action
    {
        set.assignments = update
            .assignments
            .into_iter()
            .map(|mut a| {
                names.qualify(&mut a.value);
                a
            })
            .collect();
    }
    let merged = finish(cx, merge, target, source, update.selection, &names)
        .await
        .map_err(|e| match e.kind {
            // Said of the UPDATE the user wrote, not of the MERGE it runs as.
            crate::error::ErrorKind::CardinalityViolation => Error::new(
                e.kind,
                "UPDATE ... FROM matched a target row with more than one row of FROM",
            )
            .with_hint(
                "PostgreSQL would update it from an arbitrary one of them; join FROM on a key \
                 that matches one row per target row (e.g. aggregate FROM in a subquery first)",
            ),
            _ => e,
        })?;
    Ok(retag(merged, CommandTag::Update))
}

/// `DELETE FROM target USING source WHERE cond` as a MERGE.
pub async fn delete_using(
    cx: &mut PlanContext<'_>,
    target: &TableWithJoins,
    using: Vec<TableWithJoins>,
    selection: Option<Expr>,
) -> Result<QueryOutput> {
    let source = single_source(using, "DELETE ... USING")?;
    let target = target_factor(target)?;
    let merge = skeleton("WHEN MATCHED THEN DELETE")?;
    let names = Names::of(&target, &source, cx.default_schema)?;
    let merged = finish(cx, merge, target, source, selection, &names).await?;
    Ok(retag(merged, CommandTag::Delete))
}

/// The name the source of a rewritten `IN (subquery)` gets, and the prefix of its columns.
const IN_SOURCE: &str = "__deltagres_in";

/// `DELETE FROM t WHERE ... AND (a, b) IN (SELECT x, y ...)` (dbt's `delete+insert` strategy):
/// the subquery becomes a USING source and the IN an equality join with it, which runs as the
/// MERGE of [`delete_using`] (delta-rs predicates cannot hold subqueries). Returns the source and
/// the new WHERE; None when no top-level condition is such an IN.
pub fn in_subquery_as_source(selection: &Expr) -> Option<(Vec<TableWithJoins>, Expr)> {
    let mut conjuncts = crate::dialect::conjuncts(selection.clone());
    let at = conjuncts.iter().position(|c| {
        matches!(c, Expr::InSubquery { negated: false, expr, .. } if !super::dml::has_subquery(expr))
    })?;
    let Expr::InSubquery { expr, subquery, .. } = conjuncts.remove(at) else {
        return None;
    };
    let keys = match *expr {
        Expr::Tuple(items) => items,
        Expr::Nested(inner) => vec![*inner],
        other => vec![other],
    };
    let column = |i: usize| Ident::new(format!("{IN_SOURCE}_{i}"));
    let alias = ast::TableAlias {
        explicit: true,
        name: Ident::new(IN_SOURCE),
        columns: (1..=keys.len())
            .map(|i| ast::TableAliasColumnDef::from_name(column(i).value))
            .collect(),
        at: None,
    };
    let source = TableWithJoins {
        relation: TableFactor::Derived {
            lateral: false,
            subquery,
            alias: Some(alias),
            sample: None,
        },
        joins: Vec::new(),
    };
    let equalities = keys.into_iter().enumerate().map(|(i, key)| Expr::BinaryOp {
        left: Box::new(key),
        op: ast::BinaryOperator::Eq,
        right: Box::new(Expr::CompoundIdentifier(vec![
            Ident::new(IN_SOURCE),
            column(i + 1),
        ])),
    });
    let on = crate::dialect::and_all(equalities.chain(conjuncts).collect())?;
    Some((vec![source], on))
}

/// `UPDATE t SET ... WHERE ... AND (a, b) IN (SELECT x, y ...)` as `UPDATE t SET ... FROM
/// (SELECT DISTINCT ...) WHERE ... AND a = x AND b = y`: an IN matches a row once however often
/// its value comes back, where a join with duplicates would match it several times (21000, see
/// the module header). None when no top-level condition is such an IN.
pub fn update_in_subquery_as_from(update: &mut ast::Update) -> Result<bool> {
    let Some((mut source, on)) = update.selection.as_ref().and_then(in_subquery_as_source) else {
        return Ok(false);
    };
    if let Some(TableFactor::Derived { subquery, .. }) = source.first_mut().map(|t| &mut t.relation)
    {
        let sql = format!("SELECT DISTINCT * FROM ({subquery}) AS {IN_SOURCE}_rows");
        let dialect = crate::dialect::LakehouseDialect::default();
        match sqlparser::parser::Parser::parse_sql(&dialect, &sql)?.pop() {
            Some(ast::Statement::Query(distinct)) => *subquery = distinct,
            _ => return Err(Error::internal("the IN source did not parse")),
        }
    }
    update.from = Some(UpdateTableFromKind::AfterSet(source));
    update.selection = Some(on);
    Ok(true)
}

/// The MERGE's row count under the tag of the statement the client sent (`UPDATE n`), which
/// drivers read as the affected row count.
fn retag(output: QueryOutput, tag: fn(u64) -> CommandTag) -> QueryOutput {
    match output {
        QueryOutput::Command(CommandTag::Merge(n)) => QueryOutput::Command(tag(n)),
        other => other,
    }
}

async fn finish(
    cx: &mut PlanContext<'_>,
    mut merge: ast::Merge,
    target: TableFactor,
    source: TableFactor,
    selection: Option<Expr>,
    names: &Names,
) -> Result<QueryOutput> {
    let mut on = selection.ok_or_else(|| {
        Error::unsupported(
            "UPDATE ... FROM and DELETE ... USING need a WHERE that joins the tables",
        )
    })?;
    names.qualify(&mut on);
    merge.table = target;
    merge.source = source;
    merge.on = Box::new(on);
    super::merge::merge(cx, ast::Statement::Merge(merge), false).await
}

/// A MERGE statement with placeholder tables and the given clause.
fn skeleton(clause: &str) -> Result<ast::Merge> {
    let sql = format!("MERGE INTO placeholder_t USING placeholder_s ON TRUE {clause}");
    let dialect = crate::dialect::LakehouseDialect::default();
    match sqlparser::parser::Parser::parse_sql(&dialect, &sql)?.pop() {
        Some(ast::Statement::Merge(merge)) => Ok(merge),
        _ => Err(Error::internal("MERGE skeleton did not parse")),
    }
}

fn single_source(mut from: Vec<TableWithJoins>, what: &str) -> Result<TableFactor> {
    match (from.len(), from.first().map(|t| t.joins.is_empty())) {
        (1, Some(true)) => Ok(from.remove(0).relation),
        _ => Err(Error::unsupported(format!(
            "{what} with several tables or joins is not supported; join them in a subquery: ... (SELECT ...) AS s"
        ))),
    }
}

fn target_factor(table: &TableWithJoins) -> Result<TableFactor> {
    if !table.joins.is_empty() {
        return Err(Error::unsupported(
            "UPDATE/DELETE with joins is not supported; use FROM/USING",
        ));
    }
    match &table.relation {
        factor @ TableFactor::Table { version: None, .. } => Ok(factor.clone()),
        TableFactor::Table { .. } => Err(Error::syntax(
            "the table an UPDATE or DELETE changes cannot be time-travelled",
        )),
        other => Err(Error::unsupported(format!(
            "cannot update or delete from {other}"
        ))),
    }
}

/// How the target and the source are named, to turn `schema.table.column` (which dbt writes)
/// into the `name.column` MERGE reads.
struct Names {
    /// The target's (schema, table) and the name MERGE knows it by (its alias, else its name).
    target: (String, String, String),
    /// The same for a source table; None for a subquery (which has only its alias).
    source: Option<(String, String, String)>,
}

impl Names {
    fn of(target: &TableFactor, source: &TableFactor, default_schema: &str) -> Result<Self> {
        let describe = |factor: &TableFactor| -> Result<Option<(String, String, String)>> {
            match factor {
                TableFactor::Table { name, alias, .. } => {
                    let table = resolve_table(name, default_schema)?;
                    let known_as = alias
                        .as_ref()
                        .map(|a| normalize_ident(&a.name))
                        .unwrap_or_else(|| table.table.clone());
                    Ok(Some((table.schema, table.table, known_as)))
                }
                _ => Ok(None),
            }
        };
        Ok(Self {
            target: describe(target)?.ok_or_else(|| Error::internal("target is a table"))?,
            source: describe(source)?,
        })
    }

    /// Rewrites `schema.table.column` references of either side to `known_as.column`.
    fn qualify(&self, expr: &mut Expr) {
        let _ = visit_expressions_mut(expr, |e| {
            if let Expr::CompoundIdentifier(parts) = e
                && parts.len() >= 3
            {
                let n = parts.len();
                let schema = normalize_ident(&parts[n - 3]);
                let table = normalize_ident(&parts[n - 2]);
                for (s, t, known_as) in std::iter::once(&self.target).chain(self.source.as_ref()) {
                    if *s == schema && *t == table {
                        *e = Expr::CompoundIdentifier(vec![
                            Ident::with_quote('"', known_as.clone()),
                            parts[n - 1].clone(),
                        ]);
                        break;
                    }
                }
            }
            ControlFlow::<()>::Continue(())
        });
    }
}
