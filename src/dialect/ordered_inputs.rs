//! Aggregates that collect rows in order (`array_agg`, `string_agg`, `json_agg`, ...) over a
//! subquery that sorts them, PostgreSQL's idiom for an ordered aggregate:
//!
//! `SELECT string_agg(name, ', ') FROM (SELECT name FROM t ORDER BY name) s`
//!
//! PostgreSQL feeds the aggregate the subquery's rows in their order; DataFusion drops the
//! subquery's sort (or loses its order across partitions), so the list came out in any order.
//! The subquery's sort keys become the aggregate's own ORDER BY, which the engine honours:
//!
//! `SELECT string_agg(name, ', ' ORDER BY s.name) FROM (SELECT name FROM t ORDER BY name) s`
//!
//! The same for a sorted CTE the query reads (`WITH s AS (... ORDER BY x) SELECT array_agg(x)
//! FROM s`). Only when the subquery is the query's one FROM item (a join may reorder rows in PostgreSQL
//! too) and each sort key is a column the subquery returns (by name, alias or position); an
//! aggregate with its own ORDER BY, with DISTINCT or used as a window keeps its own terms.

use std::ops::ControlFlow;

use sqlparser::ast::{
    DuplicateTreatment, Expr, FunctionArgumentClause, FunctionArguments, Ident, OrderByExpr,
    OrderByKind, Query, SelectItem, SetExpr, Statement, TableFactor, Value, VisitMut, VisitorMut,
};

/// The aggregates whose result depends on the order of their input rows.
const ORDER_SENSITIVE: &[&str] = &[
    "array_agg",
    "string_agg",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
];

/// Gives the order-sensitive aggregates of every query in `statement` their subquery's order.
pub fn rewrite(statement: &mut Statement) {
    let _ = statement.visit(&mut OrderedInputs);
}

/// [`rewrite`] for a query (the query of a CREATE TABLE ... AS).
pub fn rewrite_query(query: &mut Query) {
    let _ = query.visit(&mut OrderedInputs);
}

struct OrderedInputs;

impl VisitorMut for OrderedInputs {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        order_aggregate_inputs(query);
        ControlFlow::Continue(())
    }
}

/// The rewrite of one query (see the module header).
fn order_aggregate_inputs(query: &mut Query) {
    let Some(keys) = sorted_input_keys(query) else {
        return;
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let mut adder = AddOrder {
        keys: &keys,
        depth: 0,
    };
    for item in &mut select.projection {
        let _ = item.visit(&mut adder);
    }
    if let Some(having) = &mut select.having {
        let _ = having.visit(&mut adder);
    }
}

/// The sort keys of the one relation `query` reads, when that is a sorted subquery or a sorted
/// CTE of the query (`WITH s AS (... ORDER BY x) SELECT array_agg(x) FROM s`).
fn sorted_input_keys(query: &Query) -> Option<Vec<OrderByExpr>> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let [item] = select.from.as_slice() else {
        return None;
    };
    if !item.joins.is_empty() {
        return None;
    }
    match &item.relation {
        TableFactor::Derived {
            lateral: false,
            subquery,
            alias,
            ..
        } => {
            if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
                return None;
            }
            outer_keys(subquery, alias.as_ref().map(|a| &a.name))
        }
        TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } => {
            let [sqlparser::ast::ObjectNamePart::Identifier(table)] = name.0.as_slice() else {
                return None;
            };
            let cte = query
                .with
                .as_ref()?
                .cte_tables
                .iter()
                .find(|cte| same(&cte.alias.name, table) && cte.alias.columns.is_empty())?;
            if alias.as_ref().is_some_and(|a| !a.columns.is_empty()) {
                return None;
            }
            let qualifier = alias.as_ref().map(|a| &a.name).unwrap_or(table);
            outer_keys(&cte.query, Some(qualifier))
        }
        _ => None,
    }
}

/// The subquery's sort keys as the outer query names them (qualified with the subquery's
/// alias); None when one of them is not a column the subquery returns.
fn outer_keys(subquery: &Query, alias: Option<&Ident>) -> Option<Vec<OrderByExpr>> {
    let order_by = subquery.order_by.as_ref()?;
    let OrderByKind::Expressions(exprs) = &order_by.kind else {
        return None;
    };
    if exprs.is_empty() {
        return None;
    }
    let SetExpr::Select(inner) = subquery.body.as_ref() else {
        return None;
    };
    exprs
        .iter()
        .map(|key| {
            let name = output_name(&inner.projection, &key.expr)?;
            let expr = match alias {
                Some(alias) => Expr::CompoundIdentifier(vec![alias.clone(), name]),
                None => Expr::Identifier(name),
            };
            Some(OrderByExpr {
                expr,
                options: key.options,
                with_fill: None,
            })
        })
        .collect()
}

/// The name of the result column of `projection` that the sort key `key` orders by.
fn output_name(projection: &[SelectItem], key: &Expr) -> Option<Ident> {
    if let Expr::Value(v) = key
        && let Value::Number(n, _) = &v.value
    {
        let position: usize = n.parse().ok()?;
        return item_name(projection.get(position.checked_sub(1)?)?);
    }
    let column = match key {
        Expr::Identifier(id) => Some(id),
        Expr::CompoundIdentifier(parts) => parts.last(),
        _ => None,
    };
    if let Some(column) = column {
        if projection
            .iter()
            .any(|item| item_name(item).is_some_and(|name| same(&name, column)))
        {
            return Some(column.clone());
        }
        // `SELECT * ... ORDER BY x`: x is one of the columns the star returns.
        let star = projection.iter().any(|item| {
            matches!(
                item,
                SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..)
            )
        });
        return star.then(|| column.clone());
    }
    // An expression sorted on by the alias of the select-list item that computes it.
    projection.iter().find_map(|item| match item {
        SelectItem::ExprWithAlias { expr, alias } if expr == key => Some(alias.clone()),
        _ => None,
    })
}

/// The name a select-list item's column has.
fn item_name(item: &SelectItem) -> Option<Ident> {
    match item {
        SelectItem::UnnamedExpr(Expr::Identifier(id)) => Some(id.clone()),
        SelectItem::UnnamedExpr(Expr::CompoundIdentifier(parts)) => parts.last().cloned(),
        SelectItem::ExprWithAlias { alias, .. } => Some(alias.clone()),
        _ => None,
    }
}

/// Whether two identifiers name the same column (unquoted ones fold case).
fn same(a: &Ident, b: &Ident) -> bool {
    if a.quote_style.is_some() || b.quote_style.is_some() {
        a.value == b.value
    } else {
        a.value.eq_ignore_ascii_case(&b.value)
    }
}

/// Adds the keys to the order-sensitive aggregates of one query level (not of its subqueries).
struct AddOrder<'a> {
    keys: &'a [OrderByExpr],
    depth: usize,
}

impl VisitorMut for AddOrder<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
        self.depth += 1;
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _query: &mut Query) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if self.depth == 0 {
            add_order(expr, self.keys);
        }
        ControlFlow::Continue(())
    }
}

/// `agg(args)` -> `agg(args ORDER BY keys)` for an order-sensitive aggregate without an order,
/// DISTINCT or OVER of its own.
fn add_order(expr: &mut Expr, keys: &[OrderByExpr]) {
    let Expr::Function(function) = expr else {
        return;
    };
    let sensitive = ORDER_SENSITIVE
        .iter()
        .any(|name| super::pg_rewrites::name_is(&function.name, name));
    if !sensitive || function.over.is_some() || !function.within_group.is_empty() {
        return;
    }
    let FunctionArguments::List(list) = &mut function.args else {
        return;
    };
    let ordered = list
        .clauses
        .iter()
        .any(|clause| matches!(clause, FunctionArgumentClause::OrderBy(_)));
    if ordered || matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct)) {
        return;
    }
    list.clauses
        .insert(0, FunctionArgumentClause::OrderBy(keys.to_vec()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statements =
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, sql)
                .unwrap();
        rewrite(&mut statements[0]);
        statements[0].to_string()
    }

    #[test]
    fn the_subquerys_order_becomes_the_aggregates() {
        assert_eq!(
            rewritten(
                "SELECT string_agg(name, ', ') FROM (SELECT name FROM t ORDER BY name DESC) s"
            ),
            "SELECT string_agg(name, ', ' ORDER BY s.name DESC) FROM (SELECT name FROM t ORDER BY name DESC) s"
        );
        assert_eq!(
            rewritten(
                "SELECT g, array_agg(x) FROM (SELECT * FROM t ORDER BY g, x) AS s GROUP BY g"
            ),
            "SELECT g, array_agg(x ORDER BY s.g, s.x) FROM (SELECT * FROM t ORDER BY g, x) AS s GROUP BY g"
        );
        assert_eq!(
            rewritten("SELECT json_agg(u) FROM (SELECT upper(n) AS u FROM t ORDER BY 1) q"),
            "SELECT json_agg(u ORDER BY q.u) FROM (SELECT upper(n) AS u FROM t ORDER BY 1) q"
        );
    }

    #[test]
    fn other_shapes_are_left_alone() {
        for sql in [
            "SELECT array_agg(x ORDER BY y) FROM (SELECT x, y FROM t ORDER BY x) s",
            "SELECT array_agg(DISTINCT x) FROM (SELECT x FROM t ORDER BY x) s",
            "SELECT array_agg(x) FROM (SELECT x FROM t ORDER BY y) s",
            "SELECT array_agg(x) FROM (SELECT x FROM t ORDER BY x) s JOIN u ON true",
            "SELECT count(x) FROM (SELECT x FROM t ORDER BY x) s",
        ] {
            let parsed = sqlparser::parser::Parser::parse_sql(
                &sqlparser::dialect::PostgreSqlDialect {},
                sql,
            )
            .unwrap()[0]
                .to_string();
            assert_eq!(rewritten(sql), parsed, "{sql}");
        }
    }
}
