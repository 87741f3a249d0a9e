//! PostgreSQL's names for unnamed result columns.
//!
//! DataFusion names `SELECT count(*), NULL, x::text` as `count(*)`, `NULL`, `t.x`; PostgreSQL says
//! `count`, `?column?`, `x`, and clients (BI tools, pandas, JDBC) read those names. Each unnamed
//! expression of a statement's result gets PostgreSQL's name as an alias. PostgreSQL also allows
//! two result columns with one name (`SELECT NULL, NULL`), which DataFusion refuses: the second
//! gets an internal suffix that [`display_name`] strips when the row description is sent.

use std::collections::HashSet;

use sqlparser::ast::{
    self, DataType, Expr, Ident, ObjectNamePart, Query, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Value,
};

/// Separates a result column's name from the suffix that keeps it unique inside the engine.
const UNIQUE_SUFFIX: char = '\u{1}';

/// The name a client sees for an engine column name.
pub fn display_name(name: &str) -> &str {
    name.split(UNIQUE_SUFFIX).next().unwrap_or(name)
}

/// Names the result columns of queries, CREATE TABLE AS, views and EXPLAINed queries.
pub fn name_result_columns(statement: &mut ast::Statement) {
    match statement {
        ast::Statement::Query(query) => name_query(query),
        ast::Statement::CreateTable(create) => {
            if let Some(query) = create.query.as_mut() {
                name_query(query);
            }
        }
        ast::Statement::CreateView(view) => name_query(&mut view.query),
        // INSERT matches columns by position; the names only need to be distinct, which
        // DataFusion requires (`INSERT INTO t SELECT a, a FROM s` was refused).
        ast::Statement::Insert(insert) => {
            if let Some(source) = insert.source.as_mut() {
                name_query(source);
            }
        }
        ast::Statement::Explain { statement, .. } => name_result_columns(statement),
        _ => {}
    }
}

/// Names the result columns of one query.
pub fn name_query(query: &mut Query) {
    // A set operation's names are its first branch's.
    let mut body = query.body.as_mut();
    loop {
        match body {
            SetExpr::SetOperation { left, .. } => body = left.as_mut(),
            SetExpr::Query(inner) => body = inner.body.as_mut(),
            SetExpr::Select(select) => {
                name_items(&mut select.projection);
                break;
            }
            _ => return,
        }
    }
    if let SetExpr::Select(select) = query.body.as_mut() {
        apart_from_sorted_columns(&mut select.projection, &mut query.order_by);
    }
}

/// A result column named like a column the ORDER BY names qualified (`SELECT upper(c.name) AS
/// name ... ORDER BY c.name`; psql's `c.oid::regclass ... ORDER BY c.oid`) gets the internal
/// suffix: DataFusion refused the sort as ambiguous, where PostgreSQL reads `c.name` as the
/// input column and a bare `name` as the result column (whose ORDER BY items follow the rename).
fn apart_from_sorted_columns(items: &mut [SelectItem], order_by: &mut Option<ast::OrderBy>) {
    let Some(ast::OrderBy {
        kind: ast::OrderByKind::Expressions(sorts),
        ..
    }) = order_by
    else {
        return;
    };
    let mut sorted_qualified = HashSet::new();
    for sort in sorts.iter() {
        let _ = ast::visit_expressions(&sort.expr, |expr: &Expr| {
            if let Expr::CompoundIdentifier(parts) = expr
                && let Some(last) = parts.last()
            {
                sorted_qualified.insert(last.value.to_ascii_lowercase());
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
    }
    for item in items.iter_mut() {
        let SelectItem::ExprWithAlias { expr, alias } = item else {
            continue;
        };
        let name = alias.value.to_ascii_lowercase();
        let same_column = matches!(expr, Expr::CompoundIdentifier(parts)
            if parts.last().is_some_and(|p| p.value.eq_ignore_ascii_case(&name)));
        if !sorted_qualified.contains(&name) || same_column {
            continue;
        }
        let apart = format!("{}{UNIQUE_SUFFIX}sorted", alias.value);
        for sort in sorts.iter_mut() {
            if matches!(&sort.expr, Expr::Identifier(i) if i.value.eq_ignore_ascii_case(&name)) {
                sort.expr = Expr::Identifier(Ident::with_quote('"', apart.clone()));
            }
        }
        *alias = Ident::with_quote('"', apart);
    }
}

fn name_items(items: &mut [SelectItem]) {
    if items.iter().any(|item| {
        matches!(
            item,
            SelectItem::Wildcard(_)
                | SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::Expr(_), _)
        )
    }) {
        // Expression wildcards have no name to give; leave the statement as written.
        return;
    }
    let mut seen = HashSet::new();
    for item in items.iter_mut() {
        match item {
            SelectItem::UnnamedExpr(expr) => {
                let name = column_name(expr);
                let plain_column =
                    matches!(expr, Expr::Identifier(_) | Expr::CompoundIdentifier(_));
                let unique = unique_name(&name, &mut seen);
                if !plain_column || unique != name {
                    let expr = std::mem::replace(expr, Expr::value(Value::Null));
                    *item = SelectItem::ExprWithAlias {
                        expr,
                        alias: Ident::with_quote('"', unique),
                    };
                }
            }
            SelectItem::ExprWithAlias { alias, .. } => {
                let unique = unique_name(&alias.value, &mut seen);
                if unique != alias.value {
                    *alias = Ident::with_quote('"', unique);
                }
            }
            _ => {}
        }
    }
}

/// The `i`th (from 0) of several columns that all show as `name`: the first is `name`, the
/// others carry the internal suffix [`display_name`] strips.
pub(super) fn nth_duplicate(name: &str, i: usize) -> String {
    match i {
        0 => name.to_string(),
        _ => format!("{name}{UNIQUE_SUFFIX}{}", i + 1),
    }
}

/// `name`, or `name` + an internal suffix when an earlier column already has it.
fn unique_name(name: &str, seen: &mut HashSet<String>) -> String {
    if seen.insert(name.to_string()) {
        return name.to_string();
    }
    let mut n = 2;
    loop {
        let candidate = format!("{name}{UNIQUE_SUFFIX}{n}");
        if seen.insert(candidate.clone()) {
            return candidate;
        }
        n += 1;
    }
}

/// PostgreSQL's `FigureColname`: the column's name, the function's, the cast type's, or `?column?`.
fn column_name(expr: &Expr) -> String {
    figure_name(expr)
        .map(|(name, _)| name)
        .unwrap_or_else(|| "?column?".into())
}

/// A name and how sure PostgreSQL is of it (`FigureColnameInternal`'s strength): 2 for a column,
/// function or field name, 1 for a name a cast's type or `case` gives, which an outer cast or a
/// CASE's ELSE branch with a stronger name replaces.
fn figure_name(expr: &Expr) -> Option<(String, u8)> {
    let strong = |name: String| Some((name, 2));
    match expr {
        Expr::Identifier(ident) => strong(ident.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().and_then(|i| strong(i.value.clone())),
        Expr::Function(function) => match function.name.0.last() {
            Some(ObjectNamePart::Identifier(ident)) => strong(ident.value.to_lowercase()),
            _ => None,
        },
        Expr::Cast {
            expr, data_type, ..
        } => match figure_name(expr) {
            Some((name, 2)) => Some((name, 2)),
            _ => Some((type_name(data_type), 1)),
        },
        // `DATE '...'` and `INTERVAL '...'` are casts of a constant: named by the type.
        Expr::TypedString(typed) => Some((type_name(&typed.data_type), 1)),
        Expr::Interval(_) => Some(("interval".into(), 1)),
        Expr::Nested(inner) => figure_name(inner),
        // `(rec).field` is named by its last field, `arr[1]` and `m['k']` by what they index.
        Expr::CompoundFieldAccess { root, access_chain } => access_chain
            .iter()
            .rev()
            .find_map(|access| match access {
                ast::AccessExpr::Dot(Expr::Identifier(field)) => strong(field.value.clone()),
                _ => None,
            })
            .or_else(|| figure_name(root)),
        Expr::Case { else_result, .. } => match else_result.as_deref().and_then(figure_name) {
            Some((name, 2)) => Some((name, 2)),
            _ => Some(("case".into(), 1)),
        },
        // `NOT EXISTS (...)` is a NOT over the EXISTS: PostgreSQL gives it no name.
        Expr::Exists { negated: false, .. } => strong("exists".into()),
        Expr::BinaryOp {
            op: ast::BinaryOperator::Overlaps,
            ..
        } => strong("overlaps".into()),
        Expr::AtTimeZone { .. } => strong("timezone".into()),
        Expr::Tuple(_) => strong("row".into()),
        Expr::Array(_) => strong("array".into()),
        Expr::Subquery(query) => match query.body.as_ref() {
            SetExpr::Select(select) => match select.projection.as_slice() {
                [SelectItem::ExprWithAlias { alias, .. }] => strong(alias.value.clone()),
                [SelectItem::UnnamedExpr(inner)] => figure_name(inner),
                _ => None,
            },
            _ => None,
        },
        Expr::Extract { .. } => strong("extract".into()),
        Expr::Substring { shorthand, .. } => {
            strong(if *shorthand { "substr" } else { "substring" }.into())
        }
        Expr::Trim { .. } => strong("btrim".into()),
        Expr::Position { .. } => strong("position".into()),
        Expr::Ceil { .. } => strong("ceil".into()),
        Expr::Floor { .. } => strong("floor".into()),
        Expr::Overlay { .. } => strong("overlay".into()),
        _ => None,
    }
}

/// PostgreSQL's internal name of a cast's target type, as it names such a column.
fn type_name(data_type: &DataType) -> String {
    let name = match data_type {
        DataType::Int(_) | DataType::Integer(_) | DataType::Int4(_) => "int4",
        DataType::BigInt(_) | DataType::Int8(_) => "int8",
        DataType::SmallInt(_) | DataType::Int2(_) => "int2",
        DataType::Real | DataType::Float4 => "float4",
        DataType::Double(_) | DataType::DoublePrecision | DataType::Float8 => "float8",
        DataType::Boolean | DataType::Bool => "bool",
        DataType::Numeric(_) | DataType::Decimal(_) | DataType::Dec(_) => "numeric",
        DataType::Varchar(_) | DataType::CharacterVarying(_) => "varchar",
        DataType::Char(_) | DataType::Character(_) => "bpchar",
        DataType::Text => "text",
        DataType::Date => "date",
        DataType::Timestamp(_, ast::TimezoneInfo::WithTimeZone | ast::TimezoneInfo::Tz) => {
            "timestamptz"
        }
        DataType::Timestamp(_, _) => "timestamp",
        DataType::Interval { .. } => "interval",
        DataType::Bytea => "bytea",
        DataType::JSON => "json",
        DataType::JSONB => "jsonb",
        DataType::Uuid => "uuid",
        // PostgreSQL names an array cast by its element type (`'{a}'::text[]` is `text`).
        DataType::Array(
            ast::ArrayElemTypeDef::SquareBracket(element, _)
            | ast::ArrayElemTypeDef::AngleBracket(element)
            | ast::ArrayElemTypeDef::Parenthesis(element),
        ) => return type_name(element),
        DataType::Custom(name, _) => {
            return name
                .0
                .last()
                .map(|part| part.to_string().to_lowercase())
                .unwrap_or_else(|| "?column?".into());
        }
        other => return other.to_string().to_lowercase(),
    };
    name.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    fn named(sql: &str) -> String {
        let mut statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap();
        name_result_columns(&mut statements[0]);
        statements[0].to_string().replace(UNIQUE_SUFFIX, "#")
    }

    #[test]
    fn names_follow_postgres() {
        assert_eq!(
            named(
                "SELECT count(*), NULL, NULL, t.x, x::text, 'a'::text, a + 1, CASE WHEN a THEN 1 END FROM t"
            ),
            "SELECT count(*) AS \"count\", NULL AS \"?column?\", NULL AS \"?column?#2\", t.x, x::TEXT AS \"x#2\", 'a'::TEXT AS \"text\", a + 1 AS \"?column?#3\", CASE WHEN a THEN 1 END AS \"case\" FROM t"
        );
        assert_eq!(named("SELECT * FROM t"), "SELECT * FROM t");
        assert_eq!(
            named("SELECT arr[1], (rec).a, (rec).arr[2], m['k'] FROM t"),
            "SELECT arr[1] AS \"arr\", (rec).a AS \"a\", (rec).arr[2] AS \"arr#2\", m['k'] AS \"m\" FROM t"
        );
        assert_eq!(
            named("SELECT 1 AS a, 2 AS a UNION SELECT 3, 4"),
            "SELECT 1 AS a, 2 AS \"a#2\" UNION SELECT 3, 4"
        );
        assert_eq!(display_name("?column?\u{1}2"), "?column?");
    }
}
