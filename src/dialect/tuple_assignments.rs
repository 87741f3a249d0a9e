//! PostgreSQL's multiple-column assignment, `UPDATE t SET (a, b) = (x, y)` (also `= ROW(x,
//! y)` and `= (SELECT x, y ...)`, and in MERGE's `UPDATE SET`), as the single assignments
//! `a = x, b = y` it means: the write paths take one column at a time. A list of a different
//! length is 42601 as in PostgreSQL.

use std::ops::ControlFlow;

use sqlparser::ast::{
    Assignment, AssignmentTarget, Expr, MergeAction, ObjectName, Query, SelectItem, SetExpr,
    Statement, VisitMut, VisitorMut,
};

use crate::error::{Error, Result};

/// Splits every multiple-column assignment of `node`'s UPDATEs and MERGEs.
pub fn rewrite<N: VisitMut>(node: &mut N) -> Result<()> {
    match node.visit(&mut Splitter) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(e) => Err(e),
    }
}

struct Splitter;

impl VisitorMut for Splitter {
    type Break = Error;

    fn pre_visit_statement(&mut self, statement: &mut Statement) -> ControlFlow<Error> {
        let result = match statement {
            Statement::Update(update) => split(&mut update.assignments),
            Statement::Merge(merge) => {
                merge
                    .clauses
                    .iter_mut()
                    .try_for_each(|clause| match &mut clause.action {
                        MergeAction::Update(update) => split(&mut update.assignments),
                        _ => Ok(()),
                    })
            }
            _ => Ok(()),
        };
        match result {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => ControlFlow::Break(e),
        }
    }
}

/// `assignments` with each `(a, b) = (x, y)` replaced by `a = x, b = y`.
fn split(assignments: &mut Vec<Assignment>) -> Result<()> {
    if !assignments
        .iter()
        .any(|a| matches!(a.target, AssignmentTarget::Tuple(_)))
    {
        return Ok(());
    }
    let mut out = Vec::with_capacity(assignments.len() + 2);
    for assignment in assignments.drain(..) {
        let AssignmentTarget::Tuple(columns) = assignment.target else {
            out.push(assignment);
            continue;
        };
        let values = row_values(assignment.value, columns.len())?;
        if values.len() != columns.len() {
            return Err(Error::syntax(
                "number of columns does not match number of values",
            ));
        }
        out.extend(
            columns
                .into_iter()
                .zip(values)
                .map(|(column, value): (ObjectName, Expr)| Assignment {
                    target: AssignmentTarget::ColumnName(column),
                    value,
                }),
        );
    }
    *assignments = out;
    Ok(())
}

/// The values of `(x, y)` / `ROW(x, y)`, or of a sub-SELECT giving `width` columns: one scalar
/// subquery per column, each reading its column of the sub-SELECT's one row. A sub-SELECT with
/// LIMIT, OFFSET or FETCH is refused: read twice, it could give each column from another row.
fn row_values(value: Expr, width: usize) -> Result<Vec<Expr>> {
    if let Expr::Subquery(query) = value {
        return column_subqueries(*query, width);
    }
    match value {
        Expr::Tuple(values) => Ok(values),
        Expr::Function(function) if function.name.to_string().eq_ignore_ascii_case("row") => {
            match function.args {
                sqlparser::ast::FunctionArguments::List(list) => list
                    .args
                    .into_iter()
                    .map(|arg| match arg {
                        sqlparser::ast::FunctionArg::Unnamed(
                            sqlparser::ast::FunctionArgExpr::Expr(e),
                        ) => Ok(e),
                        other => Err(Error::syntax(format!("unexpected ROW item {other}"))),
                    })
                    .collect(),
                _ => Ok(Vec::new()),
            }
        }
        // PostgreSQL's SQLSTATE for it is 0A000 too.
        _ => Err(Error::unsupported(
            "source for a multiple-column UPDATE item must be a sub-SELECT or ROW() expression",
        )),
    }
}

/// `(SELECT x, y ...)` as `(SELECT c1 FROM (SELECT x, y ...) AS r(c1, c2))`, ... .
fn column_subqueries(query: Query, width: usize) -> Result<Vec<Expr>> {
    if query.limit_clause.is_some() || query.fetch.is_some() {
        return Err(Error::unsupported(
            "UPDATE ... SET (a, b) = (SELECT ... LIMIT n) is not supported",
        )
        .with_hint(
            "assign each column its own scalar subquery: SET a = (SELECT ...), b = (SELECT ...)",
        ));
    }
    if let SetExpr::Select(select) = query.body.as_ref()
        && select.projection.iter().all(|item| {
            matches!(
                item,
                SelectItem::UnnamedExpr(_) | SelectItem::ExprWithAlias { .. }
            )
        })
        && select.projection.len() != width
    {
        return Err(Error::syntax(
            "number of columns does not match number of values",
        ));
    }
    let names: Vec<String> = (1..=width).map(|i| format!("__deltagres_c{i}")).collect();
    (0..width)
        .map(|i| {
            let sql = format!(
                "SELECT {} FROM ({query}) AS __deltagres_row({})",
                names[i],
                names.join(", ")
            );
            let dialect = super::LakehouseDialect::default();
            let query = sqlparser::parser::Parser::new(&dialect)
                .try_with_sql(&sql)
                .and_then(|mut p| p.parse_query())
                .map_err(|e| Error::syntax(e.to_string()))?;
            Ok(Expr::Subquery(query))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    fn rewritten(sql: &str) -> String {
        let mut statements = crate::dialect::parse_sql(sql).unwrap();
        statements.pop().unwrap().to_string()
    }

    #[test]
    fn tuple_assignments_become_single_ones() {
        assert_eq!(
            rewritten("UPDATE t SET (a, b) = (1, x + 1), c = 2 WHERE id = 1"),
            "UPDATE t SET a = 1, b = x + 1, c = 2 WHERE id = 1"
        );
        assert_eq!(
            rewritten("UPDATE t SET (a, b) = ROW(1, 2)"),
            "UPDATE t SET a = 1, b = 2"
        );
        assert!(crate::dialect::parse_sql("UPDATE t SET (a, b) = (1, 2, 3)").is_err());
        assert_eq!(
            rewritten("UPDATE t SET (a, b) = (SELECT x, y FROM s)"),
            "UPDATE t SET a = (SELECT __deltagres_c1 FROM (SELECT x, y FROM s) AS \
             __deltagres_row (__deltagres_c1, __deltagres_c2)), b = (SELECT __deltagres_c2 FROM \
             (SELECT x, y FROM s) AS __deltagres_row (__deltagres_c1, __deltagres_c2))"
        );
        assert!(crate::dialect::parse_sql("UPDATE t SET (a, b) = (SELECT 1)").is_err());
        assert!(crate::dialect::parse_sql("UPDATE t SET (a, b) = (SELECT 1, 2 LIMIT 1)").is_err());
    }
}
