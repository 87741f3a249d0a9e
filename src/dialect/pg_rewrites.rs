//! PostgreSQL forms DataFusion does not plan, rewritten on the syntax tree into forms it does.
//!
//! For every statement: `ARRAY(subquery)` (psql `\du`, pgAdmin) becomes an `array_agg` of the
//! subquery, `LIKE ... ESCAPE 'c'` with a constant pattern (SQLAlchemy's inspector) is
//! translated to the backslash escape DataFusion knows, `SIMILAR TO` becomes a match of
//! PostgreSQL's `similar_to_escape` of the pattern, and `current_role` becomes a function call. For catalog queries only, where a probe matters more than PostgreSQL's "more than one
//! row" error: scalar subqueries without an aggregate (SQLAlchemy's column query, psql `\dT`)
//! take `first_value` of their rows, which DataFusion can decorrelate; `oid::regtype` shows the
//! type's name; and unqualified `pg_user` means `pg_catalog.pg_user`.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, Query, SelectItem, SetExpr, Value,
    ValueWithSpan, VisitMut, VisitorMut, visit_expressions, visit_expressions_mut,
    visit_relations_mut,
};

/// Catalog tables that hold no rows here (no sequences, triggers, inheritance, extended
/// statistics, row policies or role memberships): a scalar subquery reading one is NULL.
/// (`pg_attrdef` holds the generated columns' expressions.)
const EMPTY_CATALOG_TABLES: &[&str] = &[
    "pg_auth_members",
    "pg_sequence",
    "pg_trigger",
    "pg_inherits",
    "pg_statistic_ext",
    "pg_policy",
];

/// Aggregates whose presence makes a scalar subquery already single-row.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "min",
    "max",
    "avg",
    "array_agg",
    "string_agg",
    "bool_and",
    "bool_or",
    "every",
    "first_value",
    "last_value",
    "json_agg",
    "jsonb_agg",
];

/// Applies the rewrites; `catalog_query` enables the ones meant for client catalog probes.
pub fn rewrite(statement: &mut ast::Statement, catalog_query: bool) {
    if catalog_query {
        let _ = statement.visit(&mut UndecorrelatableProjectionSubqueries);
        let _ = statement.visit(&mut EmptyRecursiveTerms);
    }
    let _ = statement.visit(&mut InSubqueriesOutsideFilters);
    let _ = visit_expressions_mut(statement, |expr: &mut Expr| {
        character_varying_to_varchar(expr);
        user_keyword_to_function(expr);
        super::descriptions::descriptions_as_lookups(expr);
        field_access_to_get_field(expr);
        array_subquery_to_array_agg(expr);
        like_escape_to_backslash(expr);
        similar_to_to_regex_match(expr);
        super::viewdef::viewdef_to_subquery(expr);
        if catalog_query {
            information_schema_function_unqualified(expr);
            zero_based_vector_subscript(expr);
            empty_catalog_subquery_to_null(expr);
            aggregate_scalar_subquery(expr);
            hoist_outer_predicates(expr);
            regtype_to_name(expr);
        }
        ControlFlow::<()>::Continue(())
    });
    if catalog_query {
        super::regclass_names::names_of_object_ids(statement);
        let _ = visit_relations_mut(statement, |name: &mut ObjectName| {
            if name.0.len() == 1 && name_is(name, "pg_user") {
                name.0
                    .insert(0, ObjectNamePart::Identifier(Ident::new("pg_catalog")));
            }
            ControlFlow::<()>::Continue(())
        });
    }
}

/// `CAST(x AS character varying)` -> `CAST(x AS varchar)` and `'postgres'::name` -> text:
/// DataFusion knows neither spelling.
fn character_varying_to_varchar(expr: &mut Expr) {
    let Expr::Cast { data_type, .. } = expr else {
        return;
    };
    match data_type {
        DataType::CharacterVarying(length) | DataType::CharVarying(length) => {
            *data_type = DataType::Varchar(*length)
        }
        DataType::Custom(name, modifiers) if modifiers.is_empty() && name_is(name, "name") => {
            *data_type = DataType::Text
        }
        _ => {}
    }
}

/// `current_role` (and `user`, which some dialects read as a name) -> the function of that name:
/// PostgreSQL keywords for the session's user, which sqlparser leaves as column references.
fn user_keyword_to_function(expr: &mut Expr) {
    let Expr::Identifier(ident) = expr else {
        return;
    };
    if ident.quote_style.is_none()
        && ["current_role", "user"].contains(&ident.value.to_ascii_lowercase().as_str())
    {
        *expr = call(&ident.value.to_ascii_lowercase(), Vec::new());
    }
}

/// `(f(x)).n` and `(t.c).n` -> `get_field(f(x), 'n')`: DataFusion reads a field with `.` only
/// from a column (pgjdbc's key queries read `(information_schema._pg_expandarray(..)).n`).
fn field_access_to_get_field(expr: &mut Expr) {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return;
    };
    let mut fields = Vec::new();
    for access in access_chain.iter() {
        match access {
            ast::AccessExpr::Dot(Expr::Identifier(field)) => fields.push(field.value.clone()),
            _ => return,
        }
    }
    let mut current = match root.as_ref() {
        Expr::Nested(inner) => inner.as_ref().clone(),
        other => other.clone(),
    };
    for field in fields {
        current = call(
            "get_field",
            vec![current, Expr::value(Value::SingleQuotedString(field))],
        );
    }
    *expr = current;
}

/// `information_schema._pg_expandarray(..)` -> `_pg_expandarray(..)`: the functions of that
/// schema are registered under their bare names.
fn information_schema_function_unqualified(expr: &mut Expr) {
    let Expr::Function(function) = expr else {
        return;
    };
    let parts = &function.name.0;
    if parts.len() == 2
        && matches!(&parts[0], ObjectNamePart::Identifier(schema)
            if schema.value.eq_ignore_ascii_case("information_schema"))
    {
        function.name.0.remove(0);
    }
}

/// `ARRAY(SELECT x FROM ...)` -> `coalesce((SELECT array_agg(x) FROM ...), make_array())`.
fn array_subquery_to_array_agg(expr: &mut Expr) {
    let Expr::Function(function) = expr else {
        return;
    };
    if !name_is(&function.name, "array") {
        return;
    }
    let FunctionArguments::Subquery(query) = &function.args else {
        return;
    };
    let mut query = query.clone();
    let ordered = query.order_by.is_some() || query.limit_clause.is_some() || query.fetch.is_some();
    if ordered {
        let Some(aggregated) = array_of_ordered_rows(&query) else {
            return;
        };
        query = aggregated;
    } else if !replace_single_projection(&mut query, |item| call("array_agg", vec![item])) {
        return;
    }
    // No rows make an empty array, where array_agg gives NULL.
    *expr = call(
        "coalesce",
        vec![Expr::Subquery(query), call("make_array", Vec::new())],
    );
}

/// `ARRAY(SELECT x FROM ... ORDER BY k [LIMIT n])` as `(SELECT array_agg(x ORDER BY k) FROM
/// ...)`, or with a LIMIT over the limited rows (`SELECT array_agg(r.x ORDER BY r.k) FROM
/// (SELECT x, k ... ORDER BY k LIMIT n) r`): the array in the subquery's order. A sort key
/// that names the select list (`ORDER BY alias`, `ORDER BY 1`) is the expression it names.
/// Only a plain SELECT (no DISTINCT, grouping or set operation): None for others.
fn array_of_ordered_rows(query: &Query) -> Option<Box<Query>> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let plain = select.distinct.is_none()
        && select.having.is_none()
        && matches!(&select.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    let [SelectItem::UnnamedExpr(element) | SelectItem::ExprWithAlias { expr: element, .. }] =
        select.projection.as_slice()
    else {
        return None;
    };
    if !plain {
        return None;
    }
    let keys: Vec<ast::OrderByExpr> = match query.order_by.as_ref().map(|o| &o.kind) {
        None => Vec::new(),
        Some(ast::OrderByKind::Expressions(items)) => items
            .iter()
            .map(|item| {
                let mut item = item.clone();
                item.expr =
                    super::lateral_top_n::named_in_select_list(&item.expr, &select.projection)?;
                Some(item)
            })
            .collect::<Option<_>>()?,
        Some(ast::OrderByKind::All(_)) => return None,
    };
    let limited = query.limit_clause.is_some() || query.fetch.is_some();
    let mut rows = query.clone();
    let SetExpr::Select(rows_select) = rows.body.as_mut() else {
        return None;
    };
    if !limited {
        rows.order_by = None;
        let mut aggregate = call("array_agg", vec![element.clone()]);
        if let (Expr::Function(f), false) = (&mut aggregate, keys.is_empty())
            && let FunctionArguments::List(list) = &mut f.args
        {
            list.clauses
                .push(ast::FunctionArgumentClause::OrderBy(keys));
        }
        rows_select.projection = vec![SelectItem::UnnamedExpr(aggregate)];
        return Some(Box::new(rows));
    }
    let mut projection = vec![SelectItem::ExprWithAlias {
        expr: element.clone(),
        alias: Ident::new("__array_element"),
    }];
    let mut outer_keys = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let alias = format!("__array_key_{}", i + 1);
        projection.push(SelectItem::ExprWithAlias {
            expr: key.expr.clone(),
            alias: Ident::new(&alias),
        });
        let mut outer = key.clone();
        outer.expr = Expr::CompoundIdentifier(vec![Ident::new("__array_rows"), Ident::new(alias)]);
        outer_keys.push(outer.to_string());
    }
    rows_select.projection = projection;
    if let Some(order_by) = rows.order_by.as_mut() {
        order_by.kind = ast::OrderByKind::Expressions(keys);
    }
    let order = match outer_keys.is_empty() {
        true => String::new(),
        false => format!(" ORDER BY {}", outer_keys.join(", ")),
    };
    let sql = format!(
        "SELECT array_agg(__array_rows.__array_element{order}) FROM ({rows}) AS __array_rows"
    );
    match super::parser::parse_statements(&sql).ok()?.pop()? {
        super::Statement::Sql(statement) => match *statement {
            ast::Statement::Query(query) => Some(query),
            _ => None,
        },
        _ => None,
    }
}

/// A select list's correlated subquery that DataFusion cannot decorrelate -> NULL (what
/// `datafusion-pg-catalog` does to every correlated one); kept when its correlation is by
/// equality and its one result column is an aggregate or free of the outer row (pgAdmin's
/// trigger counts: 0, not NULL), where an aggregate's LIMIT goes (it has one row anyway).
/// Uncorrelated ones get `LIMIT 1`, as the library gives them.
struct UndecorrelatableProjectionSubqueries;

impl VisitorMut for UndecorrelatableProjectionSubqueries {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        for item in &mut select.projection {
            let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item
            else {
                continue;
            };
            let Expr::Subquery(subquery) = expr else {
                continue;
            };
            let SetExpr::Select(inner) = subquery.body.as_ref() else {
                continue;
            };
            let inner_names = relation_names(&inner.from);
            let limited = subquery.limit_clause.is_some() || subquery.fetch.is_some();
            if !mentions_outer(subquery, &inner_names) {
                if !limited {
                    subquery.limit_clause = Some(ast::LimitClause::LimitOffset {
                        limit: Some(Expr::value(Value::Number("1".into(), false))),
                        offset: None,
                        limit_by: Vec::new(),
                    });
                }
                continue;
            }
            let ungrouped_aggregate = matches!(&inner.group_by,
                ast::GroupByExpr::Expressions(e, _) if e.is_empty())
                && inner.having.is_none()
                && inner.projection.len() == 1
                && contains_aggregate(&inner.projection[0]);
            let equality_correlated = inner
                .selection
                .clone()
                .map(conjuncts)
                .unwrap_or_default()
                .iter()
                .all(|c| {
                    !mentions_outer(c, &inner_names)
                        || references_only_outer(c, &inner_names)
                        || matches!(
                            c,
                            Expr::BinaryOp {
                                op: ast::BinaryOperator::Eq,
                                ..
                            }
                        )
                });
            let result_inner_only = inner
                .projection
                .iter()
                .all(|p| !mentions_outer(p, &inner_names));
            if equality_correlated && (ungrouped_aggregate || result_inner_only) {
                if ungrouped_aggregate {
                    subquery.limit_clause = None;
                    subquery.fetch = None;
                }
            } else {
                *expr = Expr::value(Value::Null);
            }
        }
        ControlFlow::Continue(())
    }
}

/// Whether `node` names a column qualified by a relation outside `inner_names` (or holds a
/// parameter, which may be anything).
fn mentions_outer<V: ast::Visit>(node: &V, inner_names: &[String]) -> bool {
    visit_expressions(node, |e: &Expr| match e {
        Expr::CompoundIdentifier(parts)
            if parts.len() >= 2
                && !inner_names.contains(&parts[parts.len() - 2].value.to_lowercase()) =>
        {
            ControlFlow::Break(())
        }
        Expr::Value(v) if matches!(v.value, Value::Placeholder(_)) => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    })
    .is_break()
}

/// `WITH RECURSIVE r AS (anchor UNION ALL SELECT .. FROM r JOIN pg_auth_members ..)` ->
/// `WITH r AS (anchor)`: a recursive term that joins an always-empty catalog table adds no rows,
/// and pgAdmin's role query correlates such a CTE with the outer row, which DataFusion cannot
/// plan.
struct EmptyRecursiveTerms;

impl VisitorMut for EmptyRecursiveTerms {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        let Some(with) = query.with.as_mut().filter(|w| w.recursive) else {
            return ControlFlow::Continue(());
        };
        let mut still_recursive = false;
        for cte in &mut with.cte_tables {
            let body = cte.query.body.as_mut();
            if let SetExpr::SetOperation {
                op: ast::SetOperator::Union,
                left,
                right,
                ..
            } = body
                && matches!(right.as_ref(), SetExpr::Select(s) if reads_empty_catalog_table(s))
            {
                let anchor = std::mem::replace(
                    left.as_mut(),
                    SetExpr::Values(ast::Values {
                        explicit_row: false,
                        value_keyword: false,
                        rows: Vec::new(),
                    }),
                );
                *body = anchor;
                continue;
            }
            still_recursive = true;
        }
        with.recursive = still_recursive;
        ControlFlow::Continue(())
    }
}

/// `x IN (SELECT y ..)` in a select list or ORDER BY ->
/// `coalesce(array_has((SELECT array_agg(y) ..), x), false)`, and `EXISTS (..)` there -> a count:
/// DataFusion plans these subqueries only in filters (Grafana's table list uses IN to sort the
/// search path's tables first). Where PostgreSQL's IN yields NULL (no match, and a NULL on
/// either side) this yields false.
struct InSubqueriesOutsideFilters;

impl VisitorMut for InSubqueriesOutsideFilters {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        if let SetExpr::Select(select) = query.body.as_mut() {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } = item
                {
                    let _ = visit_expressions_mut(expr, in_subquery_to_array_has);
                }
            }
        }
        if let Some(ast::OrderBy {
            kind: ast::OrderByKind::Expressions(items),
            ..
        }) = query.order_by.as_mut()
        {
            for item in items {
                let _ = visit_expressions_mut(&mut item.expr, in_subquery_to_array_has);
            }
        }
        ControlFlow::Continue(())
    }
}

fn in_subquery_to_array_has(expr: &mut Expr) -> ControlFlow<()> {
    if let Expr::Exists { subquery, negated } = expr {
        if let Some(count) = exists_to_count(subquery, *negated) {
            *expr = count;
        }
        return ControlFlow::Continue(());
    }
    let Expr::InSubquery {
        expr: needle,
        subquery,
        negated,
    } = expr
    else {
        return ControlFlow::Continue(());
    };
    let mut subquery = subquery.clone();
    if !replace_single_projection(&mut subquery, |item| call("array_agg", vec![item])) {
        return ControlFlow::Continue(());
    }
    let found = call(
        "coalesce",
        vec![
            call(
                "array_has",
                vec![Expr::Subquery(subquery), needle.as_ref().clone()],
            ),
            Expr::value(Value::Boolean(false)),
        ],
    );
    *expr = if *negated {
        Expr::UnaryOp {
            op: ast::UnaryOperator::Not,
            expr: Box::new(found),
        }
    } else {
        found
    };
    ControlFlow::Continue(())
}

/// `EXISTS (SELECT .. FROM t WHERE p)` -> `(SELECT count(*) > 0 FROM t WHERE p)` for a plain
/// select (no grouping, DISTINCT or LIMIT, which would change what counting means).
fn exists_to_count(subquery: &Query, negated: bool) -> Option<Expr> {
    let SetExpr::Select(select) = subquery.body.as_ref() else {
        return None;
    };
    let grouped = !matches!(&select.group_by, ast::GroupByExpr::Expressions(e, _) if e.is_empty());
    if grouped
        || select.having.is_some()
        || select.distinct.is_some()
        || subquery.limit_clause.is_some()
        || subquery.fetch.is_some()
    {
        return None;
    }
    let mut counted = subquery.clone();
    if let SetExpr::Select(select) = counted.body.as_mut() {
        let count = Expr::Function(Function {
            name: ObjectName::from(vec![Ident::new("count")]),
            uses_odbc_syntax: false,
            parameters: FunctionArguments::None,
            args: FunctionArguments::List(FunctionArgumentList {
                duplicate_treatment: None,
                args: vec![FunctionArg::Unnamed(FunctionArgExpr::Wildcard)],
                clauses: Vec::new(),
            }),
            filter: None,
            null_treatment: None,
            over: None,
            within_group: Vec::new(),
        });
        select.projection = vec![SelectItem::UnnamedExpr(Expr::BinaryOp {
            left: Box::new(count),
            op: if negated {
                ast::BinaryOperator::Eq
            } else {
                ast::BinaryOperator::Gt
            },
            right: Box::new(Expr::value(Value::Number("0".into(), false))),
        })];
    }
    Some(Expr::Subquery(Box::new(counted)))
}

/// Whether `select` reads an always-empty catalog table, so that it has no rows.
fn reads_empty_catalog_table(select: &ast::Select) -> bool {
    select.from.iter().any(|table| {
        let inner_joins_only = table.joins.iter().all(|j| {
            matches!(
                j.join_operator,
                ast::JoinOperator::Join(_) | ast::JoinOperator::Inner(_)
            )
        });
        let empty = |factor: &ast::TableFactor| {
            matches!(factor, ast::TableFactor::Table { name, .. }
                if EMPTY_CATALOG_TABLES.iter().any(|t| name_is(name, t)))
        };
        empty(&table.relation)
            || (inner_joins_only && table.joins.iter().any(|j| empty(&j.relation)))
    })
}

/// `(SELECT x FROM pg_sequence ...)` without aggregates -> NULL: SQLAlchemy's identity query
/// refers to the outer row inside its projection, which DataFusion cannot decorrelate.
fn empty_catalog_subquery_to_null(expr: &mut Expr) {
    let Expr::Subquery(query) = expr else {
        return;
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return;
    };
    if reads_empty_catalog_table(select) && !select.projection.iter().any(contains_aggregate) {
        *expr = Expr::value(Value::Null);
    }
}

/// The `int2vector`/`oidvector` columns of `pg_index`, which PostgreSQL subscripts from 0.
const ZERO_BASED_VECTORS: &[&str] = &["indkey", "indclass", "indcollation", "indoption"];

/// `i.indkey[0]` -> `i.indkey[0 + 1]`: those vectors are lists here, which start at 1.
fn zero_based_vector_subscript(expr: &mut Expr) {
    let Expr::CompoundFieldAccess { root, access_chain } = expr else {
        return;
    };
    // `indkey[0]`, `i.indkey[0]` (root `i`, then `.indkey`, then the subscript).
    let Some(first) = access_chain
        .iter()
        .position(|a| matches!(a, ast::AccessExpr::Subscript(_)))
    else {
        return;
    };
    let column = if first == 0 {
        match root.as_ref() {
            Expr::Identifier(ident) => Some(ident.value.clone()),
            Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
            _ => None,
        }
    } else {
        match &access_chain[first - 1] {
            ast::AccessExpr::Dot(Expr::Identifier(ident)) => Some(ident.value.clone()),
            _ => None,
        }
    };
    if !column.is_some_and(|c| ZERO_BASED_VECTORS.iter().any(|v| c.eq_ignore_ascii_case(v))) {
        return;
    }
    if let ast::AccessExpr::Subscript(ast::Subscript::Index { index }) = &mut access_chain[first] {
        let zero_based = std::mem::replace(index, Expr::value(Value::Null));
        *index = Expr::BinaryOp {
            left: Box::new(Expr::Nested(Box::new(zero_based))),
            op: ast::BinaryOperator::Plus,
            right: Box::new(Expr::value(Value::Number("1".into(), false))),
        };
    }
}

/// A scalar subquery over catalog tables with no aggregate -> the first of its rows.
fn aggregate_scalar_subquery(expr: &mut Expr) {
    let Expr::Subquery(query) = expr else {
        return;
    };
    let single_row_limit = matches!(
        &query.limit_clause,
        Some(ast::LimitClause::LimitOffset { limit: Some(Expr::Value(v)), offset: None, .. })
            if v.value == Value::Number("1".into(), false)
    );
    if query.limit_clause.is_some() && !single_row_limit {
        return;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return;
    };
    let has_group_by = !matches!(
        &select.group_by,
        ast::GroupByExpr::Expressions(exprs, _) if exprs.is_empty()
    );
    if has_group_by || select.distinct.is_some() || select.having.is_some() {
        return;
    }
    if select.projection.iter().any(contains_aggregate) {
        return;
    }
    if replace_single_projection(query, |item| call("first_value", vec![item])) {
        query.limit_clause = None;
    }
}

/// `(SELECT .. FROM t WHERE outer.flag AND t.k = outer.k)` ->
/// `CASE WHEN outer.flag THEN (SELECT .. FROM t WHERE t.k = outer.k) END`: DataFusion cannot
/// decorrelate a subquery whose filter tests only the outer row (SQLAlchemy's column query).
fn hoist_outer_predicates(expr: &mut Expr) {
    let Expr::Subquery(query) = expr else {
        return;
    };
    let SetExpr::Select(select) = query.body.as_mut() else {
        return;
    };
    let Some(selection) = select.selection.take() else {
        return;
    };
    let inner_names = relation_names(&select.from);
    let (outer, inner): (Vec<Expr>, Vec<Expr>) = conjuncts(selection)
        .into_iter()
        .partition(|c| references_only_outer(c, &inner_names));
    select.selection = and_all(inner);
    let Some(condition) = and_all(outer) else {
        return;
    };
    let subquery = std::mem::replace(expr, Expr::value(Value::Null));
    *expr = case_when(condition, subquery, None);
}

/// The names a query's FROM clause binds: aliases, table names and their last parts.
fn relation_names(from: &[ast::TableWithJoins]) -> Vec<String> {
    let mut names = Vec::new();
    let mut add = |factor: &ast::TableFactor| {
        if let ast::TableFactor::Table { name, alias, .. } = factor {
            names.push(name.to_string().to_lowercase());
            if let Some(ObjectNamePart::Identifier(last)) = name.0.last() {
                names.push(last.value.to_lowercase());
            }
            if let Some(alias) = alias {
                names.push(alias.name.value.to_lowercase());
            }
        } else if let Some(alias) = factor_alias(factor) {
            names.push(alias);
        }
    };
    for table in from {
        add(&table.relation);
        for join in &table.joins {
            add(&join.relation);
        }
    }
    names
}

fn factor_alias(factor: &ast::TableFactor) -> Option<String> {
    match factor {
        ast::TableFactor::Derived { alias, .. } | ast::TableFactor::UNNEST { alias, .. } => {
            alias.as_ref().map(|a| a.name.value.to_lowercase())
        }
        _ => None,
    }
}

/// Whether every column `expr` names is qualified by a relation outside `inner_names` (and it
/// names at least one).
fn references_only_outer(expr: &Expr, inner_names: &[String]) -> bool {
    let mut outer = 0;
    let mut other = 0;
    let _ = visit_expressions(expr, |e: &Expr| {
        match e {
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let qualifier = parts[..parts.len() - 1]
                    .iter()
                    .map(|p| p.value.to_lowercase())
                    .collect::<Vec<_>>()
                    .join(".");
                if inner_names.contains(&qualifier) {
                    other += 1;
                } else {
                    outer += 1;
                }
            }
            Expr::Identifier(_)
            | Expr::Subquery(_)
            | Expr::Exists { .. }
            | Expr::InSubquery { .. } => other += 1,
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    outer > 0 && other == 0
}

/// The top-level AND-ed conditions of `expr` (through parentheses).
pub(crate) fn conjuncts(expr: Expr) -> Vec<Expr> {
    match expr {
        Expr::BinaryOp {
            left,
            op: ast::BinaryOperator::And,
            right,
        } => {
            let mut out = conjuncts(*left);
            out.extend(conjuncts(*right));
            out
        }
        Expr::Nested(inner)
            if matches!(
                inner.as_ref(),
                Expr::BinaryOp {
                    op: ast::BinaryOperator::And,
                    ..
                }
            ) =>
        {
            conjuncts(*inner)
        }
        other => vec![other],
    }
}

/// The conditions AND-ed together; None for none.
pub(crate) fn and_all(exprs: Vec<Expr>) -> Option<Expr> {
    exprs.into_iter().reduce(|left, right| Expr::BinaryOp {
        left: Box::new(left),
        op: ast::BinaryOperator::And,
        right: Box::new(right),
    })
}

/// `oid::regtype::text` -> `format_type(oid, NULL)`, the name PostgreSQL prints. (A bare
/// `oid::regtype` stays a number: it is compared with other oids, `'trigger'::regtype`.)
fn regtype_to_name(expr: &mut Expr) {
    let Expr::Cast {
        expr: inner,
        data_type: target,
        ..
    } = expr
    else {
        return;
    };
    if !matches!(target, DataType::Text | DataType::Varchar(_)) {
        return;
    }
    let Expr::Cast {
        expr: oid,
        data_type,
        ..
    } = inner.as_mut()
    else {
        return;
    };
    let is_regtype = matches!(data_type, DataType::Custom(name, _) if name_is(name, "regtype"));
    if is_regtype && !matches!(oid.as_ref(), Expr::Value(_)) {
        let oid = std::mem::replace(oid.as_mut(), Expr::value(Value::Null));
        *expr = call("format_type", vec![oid, Expr::value(Value::Null)]);
    }
}

/// `x [NOT] SIMILAR TO p [ESCAPE e]` -> `x [!]~ similar_to_escape(p [, e])`: DataFusion reads the
/// pattern as a bare regular expression (see `semantics::similar_to`).
fn similar_to_to_regex_match(expr: &mut Expr) {
    let Expr::SimilarTo {
        negated,
        expr: value,
        pattern,
        escape_char,
    } = expr
    else {
        return;
    };
    let mut args = vec![(**pattern).clone()];
    if let Some(escape) = escape_char.take() {
        args.push(Expr::Value(escape));
    }
    let op = if *negated {
        ast::BinaryOperator::PGRegexNotMatch
    } else {
        ast::BinaryOperator::PGRegexMatch
    };
    *expr = Expr::BinaryOp {
        left: Box::new(Expr::Nested(value.clone())),
        op,
        right: Box::new(call("similar_to_escape", args)),
    };
}

/// `x LIKE 'a/_%' ESCAPE '/'` -> `x LIKE 'a\_%'` when the pattern is constant text.
fn like_escape_to_backslash(expr: &mut Expr) {
    let (Expr::Like {
        pattern,
        escape_char,
        ..
    }
    | Expr::ILike {
        pattern,
        escape_char,
        ..
    }) = expr
    else {
        return;
    };
    let Some(escape) = escape_char
        .as_ref()
        .and_then(|e| e.value.clone().into_string())
    else {
        return;
    };
    let mut escape_chars = escape.chars();
    let (Some(escape), None) = (escape_chars.next(), escape_chars.next()) else {
        return;
    };
    if escape == '\\' {
        *escape_char = None;
        return;
    }
    let Some(text) = constant_text(pattern) else {
        return;
    };
    let mut translated = String::with_capacity(text.len() + 4);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == escape {
            match chars.next() {
                Some(next @ ('%' | '_')) => {
                    translated.push('\\');
                    translated.push(next);
                }
                Some('\\') => translated.push_str("\\\\"),
                Some(next) => translated.push(next),
                None => {}
            }
        } else if c == '\\' {
            translated.push_str("\\\\");
        } else {
            translated.push(c);
        }
    }
    **pattern = Expr::value(Value::SingleQuotedString(translated));
    *escape_char = None;
}

/// The text of a string literal or a `||` chain of them.
fn constant_text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Value(ValueWithSpan {
            value: Value::SingleQuotedString(s) | Value::EscapedStringLiteral(s),
            ..
        }) => Some(s.clone()),
        Expr::Nested(inner) => constant_text(inner),
        Expr::BinaryOp {
            left,
            op: ast::BinaryOperator::StringConcat,
            right,
        } => Some(constant_text(left)? + &constant_text(right)?),
        _ => None,
    }
}

/// Replaces the one projected expression of a plain SELECT by `wrap(expr)`, keeping its name.
fn replace_single_projection(query: &mut Query, wrap: impl FnOnce(Expr) -> Expr) -> bool {
    let SetExpr::Select(select) = query.body.as_mut() else {
        return false;
    };
    let [item] = select.projection.as_mut_slice() else {
        return false;
    };
    match item {
        SelectItem::UnnamedExpr(e) => {
            let inner = std::mem::replace(e, Expr::value(Value::Null));
            *e = wrap(inner);
            true
        }
        SelectItem::ExprWithAlias { expr, .. } => {
            let inner = std::mem::replace(expr, Expr::value(Value::Null));
            *expr = wrap(inner);
            true
        }
        _ => false,
    }
}

/// Whether a projected item calls an aggregate (outside nested subqueries too: good enough for
/// the catalog queries this serves).
fn contains_aggregate(item: &SelectItem) -> bool {
    let mut found = false;
    let _ = visit_expressions(item, |e: &Expr| {
        if let Expr::Function(f) = e
            && f.over.is_none()
            && AGGREGATES.iter().any(|a| name_is(&f.name, a))
        {
            found = true;
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// Whether the last part of `name` is `expected` (case-insensitive).
pub(super) fn name_is(name: &ObjectName, expected: &str) -> bool {
    name.0.last().is_some_and(|part| {
        matches!(part, ObjectNamePart::Identifier(ident) if ident.value.eq_ignore_ascii_case(expected))
    })
}

/// `CASE WHEN condition THEN result [ELSE otherwise] END`, as the rewrites build it.
pub(crate) fn case_when(condition: Expr, result: Expr, otherwise: Option<Expr>) -> Expr {
    Expr::Case {
        case_token: ast::helpers::attached_token::AttachedToken::empty(),
        end_token: ast::helpers::attached_token::AttachedToken::empty(),
        operand: None,
        conditions: vec![ast::CaseWhen { condition, result }],
        else_result: otherwise.map(Box::new),
    }
}

/// `name(args...)`: a plain function call, as the rewrites and the planner build them.
pub(crate) fn call(name: &str, args: Vec<Expr>) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new(name))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: args
                .into_iter()
                .map(|e| FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
                .collect(),
            clauses: Vec::new(),
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn rewritten(sql: &str, catalog: bool) -> String {
        let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        rewrite(&mut statements[0], catalog);
        statements[0].to_string()
    }

    #[test]
    fn rewrites_what_datafusion_cannot_plan() {
        assert_eq!(
            rewritten(
                "SELECT ARRAY(SELECT b.rolname FROM r b WHERE b.x = a.y) AS m FROM a",
                false
            ),
            "SELECT coalesce((SELECT array_agg(b.rolname) FROM r b WHERE b.x = a.y), make_array()) \
             AS m FROM a"
        );
        assert_eq!(
            rewritten(
                "SELECT n FROM ns WHERE n NOT LIKE 'pg/_' || '%' ESCAPE '/'",
                false
            ),
            r"SELECT n FROM ns WHERE n NOT LIKE 'pg\_%'"
        );
        assert_eq!(
            rewritten(
                "SELECT (SELECT c.relkind = 'c' FROM pg_class c WHERE c.oid = t.typrelid) FROM pg_type t",
                true
            ),
            "SELECT (SELECT first_value(c.relkind = 'c') FROM pg_class c WHERE c.oid = t.typrelid) FROM pg_type t"
        );
        assert_eq!(
            rewritten(
                "SELECT (SELECT count(*) FROM x WHERE x.a = t.a), atttypid::regtype::text FROM pg_user t WHERE t.r::regtype <> 'trigger'::regtype",
                true
            ),
            "SELECT (SELECT count(*) FROM x WHERE x.a = t.a), format_type(atttypid, NULL) FROM pg_catalog.pg_user t WHERE t.r::regtype <> 'trigger'::regtype"
        );
        assert_eq!(
            rewritten(
                "SELECT (SELECT first_value(d.adbin) FROM pg_attrdef d WHERE a.atthasdef AND d.adrelid = a.attrelid) FROM pg_attribute a",
                true
            ),
            "SELECT CASE WHEN a.atthasdef THEN (SELECT first_value(d.adbin) FROM pg_attrdef d WHERE d.adrelid = a.attrelid) END FROM pg_attribute a"
        );
        assert_eq!(
            rewritten("SELECT i.indkey[0], a.b[0] FROM pg_index i", true),
            "SELECT i.indkey[(0) + 1], a.b[0] FROM pg_index i"
        );
        // User queries keep PostgreSQL's single-row rule.
        assert_eq!(
            rewritten("SELECT (SELECT v FROM x WHERE x.a = t.a) FROM t", false),
            "SELECT (SELECT v FROM x WHERE x.a = t.a) FROM t"
        );
    }
}
