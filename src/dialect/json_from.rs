//! PostgreSQL's JSON set-returning functions in FROM, in forms DataFusion plans:
//! `json[b]_array_elements[_text]`, `json[b]_object_keys` and `json[b]_each[_text]`; and
//! `unnest(array)` over a column of the relation before it (`FROM o, unnest(o.tags) AS tag`).
//!
//! - With arguments that name no column (`FROM jsonb_each('{"a": 1}') AS e`), the call becomes a
//!   derived table whose select list gives the rows (`(SELECT key, value) AS e`: the list-valued
//!   forms of `semantics::json_items`, unnested side by side).
//! - With arguments that name the columns of the one relation before it, PostgreSQL's implicit
//!   LATERAL (`FROM orders o, jsonb_array_elements(o.items) AS item`, or `CROSS JOIN LATERAL`),
//!   which DataFusion cannot plan: the relation becomes a derived table that adds the function's
//!   columns to each of its rows (`(SELECT o.*, <rows> FROM orders o) AS o`), and references to
//!   the function's alias (`item.value`, `item`, `item.*`) point at them.
//!
//! - `WITH ORDINALITY` adds the column `ordinality` (each row's position, from 1).
//!
//! Other shapes (a LEFT JOIN LATERAL, whose rows without elements PostgreSQL keeps; a function
//! over the columns of a join or of an item further back) are 0A000, never rows missing.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, ExcludeSelectItem, Expr, FunctionArg, Ident, JoinConstraint, JoinOperator, ObjectName,
    ObjectNamePart, Query, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, TableAlias,
    TableFactor, TableWithJoins, VisitMut, VisitorMut,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::error::{Error, Result};

/// Rewrites the JSON set-returning functions in the FROM clauses of `statement`; 0A000 for a
/// shape this cannot plan.
pub fn rewrite(statement: &mut ast::Statement) -> Result<()> {
    match statement.visit(&mut JsonFrom) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// Rewrites the JSON set-returning functions in the FROM clauses of `query`.
pub fn rewrite_query(query: &mut Query) -> Result<()> {
    match query.visit(&mut JsonFrom) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct JsonFrom;

impl VisitorMut for JsonFrom {
    type Break = Error;

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<Error> {
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let mut placed = Vec::new();
        for item in &mut select.from {
            placed.extend(standalone(&mut item.relation));
        }
        while let Some(done) = lateral(&mut select.from) {
            placed.push(done);
        }
        let left_over = select.from.iter().find_map(|item| {
            std::iter::once(&item.relation)
                .chain(item.joins.iter().map(|j| &j.relation))
                .find_map(|r| call_of(r).filter(|c| c.correlated).map(|c| c.function))
        });
        if let Some(function) = left_over {
            return ControlFlow::Break(
                Error::unsupported(format!(
                    "{function} in FROM over the columns of this query is supported after the one \
                     relation whose columns it reads, as a FROM item of its own, CROSS JOIN LATERAL \
                     or JOIN LATERAL ... ON true (not LEFT JOIN LATERAL, nor over a join)"
                ))
                .with_hint(format!(
                    "call it in the select list: SELECT ..., {function}(...) FROM ..."
                )),
            );
        }
        if placed.is_empty() {
            return ControlFlow::Continue(());
        }
        expand_wildcards(&mut select.projection, &placed);
        name_whole_rows(&mut select.projection, &placed);
        let _ = ast::visit_expressions_mut(query, |expr: &mut Expr| {
            redirect(expr, &placed);
            ControlFlow::<()>::Continue(())
        });
        ControlFlow::Continue(())
    }
}

/// A JSON set-returning function called in FROM.
struct Call {
    /// The function's name (lowercase).
    function: String,
    /// What the query calls its rows: the alias, or the function's name.
    alias: Ident,
    /// The names of its columns (the alias's column list, else PostgreSQL's names).
    columns: Vec<String>,
    /// The select-list expression of each column.
    exprs: Vec<String>,
    /// Whether its arguments name a column (PostgreSQL's implicit LATERAL).
    correlated: bool,
}

/// Where a function's columns ended up: the relation that now carries them.
struct Placed {
    /// The function's alias, as the query refers to its rows.
    alias: Ident,
    /// The relation (alias) whose columns they now are.
    relation: Ident,
    columns: Vec<String>,
}

/// The call in `factor`, when it is one of the functions of this module.
fn call_of(factor: &TableFactor) -> Option<Call> {
    // `unnest(a)` is a table factor of its own in sqlparser's tree.
    if let TableFactor::UNNEST {
        alias,
        array_exprs,
        with_offset: false,
        with_offset_alias: None,
        with_ordinality,
    } = factor
    {
        let [array] = array_exprs.as_slice() else {
            return None;
        };
        let arg = FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(array.clone()));
        return named_call("unnest".into(), alias, &[arg], *with_ordinality);
    }
    let (name, alias, args, with_ordinality) = match factor {
        TableFactor::Table {
            name,
            alias,
            args: Some(args),
            with_ordinality,
            ..
        } => (name, alias, &args.args, *with_ordinality),
        TableFactor::Function {
            name,
            alias,
            args,
            with_ordinality,
            ..
        } => (name, alias, args, *with_ordinality),
        _ => return None,
    };
    let function = match name.0.as_slice() {
        [ObjectNamePart::Identifier(f)] => f.value.to_ascii_lowercase(),
        [ObjectNamePart::Identifier(s), ObjectNamePart::Identifier(f)]
            if s.value.eq_ignore_ascii_case("pg_catalog") =>
        {
            f.value.to_ascii_lowercase()
        }
        _ => return None,
    };
    named_call(function, alias, args, with_ordinality)
}

/// The call of `function` (lowercase) with `args`, as the query names it (`alias`).
/// `WITH ORDINALITY` adds the column `ordinality`, each row's position: the positions are
/// unnested alongside the rows (two unnests of one select list advance together).
fn named_call(
    function: String,
    alias: &Option<TableAlias>,
    args: &[FunctionArg],
    with_ordinality: bool,
) -> Option<Call> {
    let args_text = args
        .iter()
        .map(FunctionArg::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let (mut names, mut exprs) = rows_of(&function, &args_text)?;
    if with_ordinality {
        let rows = listed_rows(&function, &args_text)?;
        names.push(Some("ordinality"));
        exprs.push(format!(
            "unnest(range(1, CAST(cardinality({rows}) AS BIGINT) + 1))"
        ));
    }
    let alias_name = alias
        .as_ref()
        .map(|a| a.name.clone())
        .unwrap_or_else(|| Ident::new(function.clone()));
    let mut columns: Vec<String> = names
        .iter()
        .map(|n| n.unwrap_or(alias_name.value.as_str()).to_string())
        .collect();
    if let Some(alias) = alias {
        if alias.columns.len() > columns.len() {
            return None;
        }
        for (column, renamed) in columns.iter_mut().zip(&alias.columns) {
            *column = renamed.name.value.clone();
        }
    }
    Some(Call {
        function,
        alias: alias_name,
        columns,
        exprs,
        correlated: args.iter().any(mentions_column),
    })
}

/// PostgreSQL's column names of `function` (None: named after the alias) and the select-list
/// expressions that give its rows for the arguments `args`.
fn rows_of(function: &str, args: &str) -> Option<(Vec<Option<&'static str>>, Vec<String>)> {
    let each = |keys: &str, values: &str, cast: Option<&str>| {
        let values = format!("unnest({values}({args}))");
        let values = match cast {
            Some(cast) => format!("{cast}({values})"),
            None => values,
        };
        (
            vec![Some("key"), Some("value")],
            vec![format!("unnest({keys}({args}))"), values],
        )
    };
    Some(match function {
        "json_array_elements"
        | "jsonb_array_elements"
        | "json_array_elements_text"
        | "jsonb_array_elements_text" => (vec![Some("value")], vec![format!("{function}({args})")]),
        "json_object_keys" | "jsonb_object_keys" => {
            (vec![None], vec![format!("{function}({args})")])
        }
        "json_each" => each(
            "pg_json_object_keys",
            "pg_json_each_values",
            Some(crate::semantics::CAST_JSON),
        ),
        "jsonb_each" => each(
            "pg_jsonb_object_keys",
            "pg_jsonb_each_values",
            Some(crate::semantics::CAST_JSONB),
        ),
        "json_each_text" => each("pg_json_object_keys", "pg_json_each_text_values", None),
        "jsonb_each_text" => each("pg_jsonb_object_keys", "pg_jsonb_each_text_values", None),
        // One array's elements (`call_of` takes no other form).
        "unnest" => (vec![None], vec![format!("unnest({args})")]),

        _ => return None,
    })
}

/// The list whose elements are `function`'s rows (one per row), for numbering them.
fn listed_rows(function: &str, args: &str) -> Option<String> {
    Some(match function {
        "unnest" => args.to_string(),
        "json_each" | "json_each_text" => format!("pg_json_object_keys({args})"),
        "jsonb_each" | "jsonb_each_text" => format!("pg_jsonb_object_keys({args})"),
        f if crate::semantics::JSON_SET_RETURNING.contains(&f) => format!("pg_{f}({args})"),
        _ => return None,
    })
}

/// `expr AS "column", ...` for the select list of a call's rows.
fn select_list(call: &Call) -> String {
    call.exprs
        .iter()
        .zip(&call.columns)
        .map(|(expr, column)| format!("{expr} AS {}", Ident::with_quote('"', column)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A call whose arguments name no column, made a derived table of its rows (`unnest` of a
/// constant array is planned as it is: `from_functions` names its column).
fn standalone(factor: &mut TableFactor) -> Option<Placed> {
    // (`unnest` WITH ORDINALITY has a second column: planned here.)
    let call = call_of(factor)
        .filter(|c| !c.correlated && (c.function != "unnest" || c.columns.len() > 1))?;
    let subquery = parse_query(&format!("SELECT {}", select_list(&call)))?;
    *factor = derived(subquery, call.alias.clone());
    Some(Placed {
        relation: call.alias.clone(),
        alias: call.alias,
        columns: call.columns,
    })
}

/// The first correlated call of `from` whose arguments name the columns of one relation before
/// it (a FROM item of its own, or the left side of `CROSS JOIN LATERAL` / `JOIN LATERAL ... ON
/// true`): that relation made a derived table with the call's columns added, the call removed.
fn lateral(from: &mut Vec<TableWithJoins>) -> Option<Placed> {
    for j in 1..from.len() {
        if !from[j].joins.is_empty() {
            continue;
        }
        let Some(call) = call_of(&from[j].relation).filter(|c| c.correlated) else {
            continue;
        };
        // Only the item just before: `*` then lists the columns in PostgreSQL's order.
        let Some(i) = target(&from[..j], &from[j].relation).filter(|i| *i + 1 == j) else {
            continue;
        };
        let placed = carry(&mut from[i].relation, call)?;
        from.remove(j);
        return Some(placed);
    }
    for item in from.iter_mut() {
        let [join] = item.joins.as_slice() else {
            continue;
        };
        let inner = match &join.join_operator {
            JoinOperator::CrossJoin(JoinConstraint::None) => true,
            JoinOperator::Inner(JoinConstraint::On(on))
            | JoinOperator::Join(JoinConstraint::On(on)) => {
                matches!(on, Expr::Value(v) if v.value == ast::Value::Boolean(true))
            }
            _ => false,
        };
        let Some(call) = call_of(&join.relation).filter(|c| c.correlated) else {
            continue;
        };
        if !inner || relation_name(&item.relation).is_none() {
            continue;
        }
        let qualifiers = qualifiers(&join.relation);
        let name = relation_name(&item.relation)?;
        if qualifiers
            .iter()
            .any(|q| !q.eq_ignore_ascii_case(&name.value))
        {
            continue;
        }
        let placed = carry(&mut item.relation, call)?;
        item.joins.clear();
        return Some(placed);
    }
    None
}

/// The index of the FROM item (before the call) whose columns the call's arguments name.
fn target(before: &[TableWithJoins], call: &TableFactor) -> Option<usize> {
    let qualifiers = qualifiers(call);
    match qualifiers.as_slice() {
        [] if before.len() == 1 && before[0].joins.is_empty() => Some(0),
        [q] => before.iter().position(|item| {
            item.joins.is_empty()
                && relation_name(&item.relation).is_some_and(|n| n.value.eq_ignore_ascii_case(q))
        }),
        _ => None,
    }
}

/// `relation` made `(SELECT r.*, <call's rows> FROM relation) AS r`.
fn carry(relation: &mut TableFactor, call: Call) -> Option<Placed> {
    let name = relation_name(relation)?;
    let subquery = parse_query(&format!(
        "SELECT {name}.*, {} FROM {relation}",
        select_list(&call)
    ))?;
    *relation = derived(subquery, name.clone());
    Some(Placed {
        alias: call.alias,
        relation: name,
        columns: call.columns,
    })
}

/// The name a relation's columns are qualified with.
fn relation_name(factor: &TableFactor) -> Option<Ident> {
    match factor {
        TableFactor::Table {
            alias: Some(alias), ..
        }
        | TableFactor::Derived {
            alias: Some(alias), ..
        } => Some(alias.name.clone()),
        TableFactor::Table {
            name, args: None, ..
        } => match name.0.last() {
            Some(ObjectNamePart::Identifier(ident)) => Some(ident.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// The distinct qualifiers of the column references in a call's arguments (lowercase).
fn qualifiers(factor: &TableFactor) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let _ = ast::visit_expressions(factor, |e: &Expr| {
        if let Expr::CompoundIdentifier(parts) = e
            && parts.len() >= 2
        {
            let q = parts[parts.len() - 2].value.to_ascii_lowercase();
            if !found.contains(&q) {
                found.push(q);
            }
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

fn derived(subquery: Query, name: Ident) -> TableFactor {
    TableFactor::Derived {
        lateral: false,
        subquery: Box::new(subquery),
        alias: Some(TableAlias {
            explicit: true,
            name,
            columns: Vec::new(),
            at: None,
        }),
        sample: None,
    }
}

fn parse_query(sql: &str) -> Option<Query> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_query())
        .ok()
        .map(|q| *q)
}

/// Whether a function argument refers to a column (then a function in FROM is correlated with
/// the relations before it: PostgreSQL's implicit LATERAL).
pub fn mentions_column(arg: &FunctionArg) -> bool {
    let mut found = false;
    let _ = ast::visit_expressions(arg, |e: &Expr| {
        if matches!(e, Expr::Identifier(_) | Expr::CompoundIdentifier(_)) {
            found = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

fn same(a: &Ident, b: &Ident) -> bool {
    if a.quote_style.is_some() || b.quote_style.is_some() {
        a.value == b.value
    } else {
        a.value.eq_ignore_ascii_case(&b.value)
    }
}

/// `alias.*` of a function's rows as its columns where they now are.
fn expand_wildcards(projection: &mut Vec<SelectItem>, placed: &[Placed]) {
    let mut expanded = Vec::with_capacity(projection.len());
    for item in projection.drain(..) {
        let target = match &item {
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
                match name.0.as_slice() {
                    [ObjectNamePart::Identifier(q)] => placed
                        .iter()
                        .find(|p| same(&p.alias, q) && !same(&p.alias, &p.relation)),
                    _ => None,
                }
            }
            _ => None,
        };
        let carrier = match &item {
            SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(name), _) => {
                match name.0.as_slice() {
                    [ObjectNamePart::Identifier(q)] => placed
                        .iter()
                        .filter(|p| same(&p.relation, q) && !same(&p.alias, &p.relation))
                        .flat_map(|p| p.columns.iter())
                        .collect::<Vec<_>>(),
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        match (target, item) {
            (Some(p), _) => expanded.extend(p.columns.iter().map(|c| {
                SelectItem::UnnamedExpr(Expr::CompoundIdentifier(vec![
                    p.relation.clone(),
                    Ident::with_quote('"', c),
                ]))
            })),
            // `r.*` of the relation that now carries a function's columns: its own columns.
            (None, SelectItem::QualifiedWildcard(kind, mut options)) if !carrier.is_empty() => {
                options.opt_exclude = Some(ExcludeSelectItem::Multiple(
                    carrier
                        .into_iter()
                        .map(|c| ObjectName::from(vec![Ident::with_quote('"', c)]))
                        .collect(),
                ));
                expanded.push(SelectItem::QualifiedWildcard(kind, options));
            }
            (None, item) => expanded.push(item),
        }
    }
    *projection = expanded;
}

/// A select-list item that is a one-column function's alias alone (`SELECT e FROM
/// jsonb_array_elements(...) e`) keeps the alias as its column name, as in PostgreSQL (it
/// becomes a reference to the column, which was named `value`).
fn name_whole_rows(projection: &mut [SelectItem], placed: &[Placed]) {
    for item in projection {
        if let SelectItem::UnnamedExpr(Expr::Identifier(ident)) = item
            && placed
                .iter()
                .any(|p| same(&p.alias, ident) && p.columns.len() == 1)
        {
            let alias = ident.clone();
            *item = SelectItem::ExprWithAlias {
                expr: Expr::Identifier(alias.clone()),
                alias,
            };
        }
    }
}

/// A reference to a function's rows pointed at where its columns now are: `alias.column` at the
/// relation that carries them, and `alias` alone (the row of a one-column function, which
/// PostgreSQL gives as its value) at its column.
fn redirect(expr: &mut Expr, placed: &[Placed]) {
    match expr {
        Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
            if let Some(p) = placed.iter().find(|p| same(&p.alias, &parts[0])) {
                parts[0] = p.relation.clone();
            }
        }
        Expr::Identifier(ident) => {
            if let Some(p) = placed
                .iter()
                .find(|p| same(&p.alias, ident) && p.columns.len() == 1)
            {
                *expr = Expr::CompoundIdentifier(vec![
                    p.relation.clone(),
                    Ident::with_quote('"', &p.columns[0]),
                ]);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statement = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .pop()
            .unwrap();
        rewrite(&mut statement).unwrap();
        statement.to_string()
    }

    #[test]
    fn json_functions_in_from_become_derived_tables() {
        assert_eq!(
            rewritten("SELECT e.value FROM jsonb_array_elements('[1]') AS e"),
            "SELECT e.value FROM (SELECT jsonb_array_elements('[1]') AS \"value\") AS e"
        );
        assert_eq!(
            rewritten("SELECT o.id, i.value FROM orders o, jsonb_array_elements(o.items) i"),
            "SELECT o.id, o.value FROM (SELECT o.*, jsonb_array_elements(o.items) AS \"value\" \
             FROM orders o) AS o"
        );
        assert_eq!(
            rewritten("SELECT k FROM t CROSS JOIN LATERAL jsonb_object_keys(t.doc) AS k"),
            "SELECT t.\"k\" AS k FROM (SELECT t.*, jsonb_object_keys(t.doc) AS \"k\" FROM t) AS t"
        );
        // The alias alone names its column, as in PostgreSQL (the column is `value`).
        assert_eq!(
            rewritten("SELECT e FROM jsonb_array_elements('[1]') e"),
            "SELECT e.\"value\" AS e FROM (SELECT jsonb_array_elements('[1]') AS \"value\") AS e"
        );
        // Kept rows PostgreSQL would keep: refused, not dropped.
        let mut statement = Parser::parse_sql(
            &PostgreSqlDialect {},
            "SELECT * FROM t LEFT JOIN LATERAL jsonb_each(t.doc) e ON true",
        )
        .unwrap()
        .pop()
        .unwrap();
        assert_eq!(rewrite(&mut statement).unwrap_err().sqlstate(), "0A000");
    }
}
