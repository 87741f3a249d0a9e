//! Column defaults (`c type DEFAULT expr`) as PostgreSQL has them, kept in the Delta table in
//! Spark's form (see [`crate::delta::CURRENT_DEFAULT`]): checked as PostgreSQL checks them when
//! declared (CREATE TABLE, `ALTER COLUMN ... SET DEFAULT`), and written where a statement leaves
//! a value out — the columns an INSERT, MERGE INSERT or COPY does not name, `DEFAULT` in a VALUES
//! row, `UPDATE ... SET c = DEFAULT` — as the expression itself, evaluated per row as the
//! statement runs (`now()` is the statement's time, `gen_random_uuid()` a new value per row).

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::tree_node::TreeNode;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use sqlparser::ast;

use super::PlanContext;
use crate::error::{Error, ErrorKind, Result};

/// Whether `expr` is the bare keyword `DEFAULT` (sqlparser reads it as an identifier).
pub(super) fn is_default_keyword(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Identifier(ident)
        if ident.quote_style.is_none() && ident.value.eq_ignore_ascii_case("default"))
}

/// Whether `expr` is the literal NULL (`DEFAULT NULL` is the same as no default).
pub(super) fn is_null_literal(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Value(v) if v.value == ast::Value::Null)
}

/// The Spark SQL text that keeps `expr`, declared as the default of `column` (whose type is
/// `field`'s), after PostgreSQL's checks: no column reference or subquery (0A000), no aggregate
/// (42803), window (42P20) or set-returning function (0A000), a type that can be assigned to
/// the column (42804), and a constant the column's type reads (`int DEFAULT 'abc'` is 22P02).
pub(super) async fn declared(
    cx: &PlanContext<'_>,
    column: &str,
    expr: &ast::Expr,
    field: &Field,
) -> Result<String> {
    let mut refused = None;
    let _ = ast::visit_expressions(expr, |e| {
        let problem = match e {
            ast::Expr::Identifier(_) | ast::Expr::CompoundIdentifier(_) => {
                "cannot use column reference in DEFAULT expression"
            }
            ast::Expr::Subquery(_) | ast::Expr::Exists { .. } | ast::Expr::InSubquery { .. } => {
                "cannot use subquery in DEFAULT expression"
            }
            _ => return ControlFlow::Continue(()),
        };
        refused = Some(Error::unsupported(problem));
        ControlFlow::Break(())
    });
    if let Some(refused) = refused {
        return Err(refused);
    }
    let plan = select_of(cx, expr, column).await?;
    for (found, kind, what) in [
        (
            plan.exists(|n| Ok(matches!(n, LogicalPlan::Aggregate(_))))?,
            ErrorKind::GroupingError,
            "aggregate functions are not allowed in DEFAULT expressions",
        ),
        (
            plan.exists(|n| Ok(matches!(n, LogicalPlan::Window(_))))?,
            ErrorKind::WindowingError,
            "window functions are not allowed in DEFAULT expressions",
        ),
        (
            plan.exists(|n| Ok(matches!(n, LogicalPlan::Unnest(_))))?,
            ErrorKind::FeatureNotSupported,
            "set-returning functions are not allowed in DEFAULT expressions",
        ),
    ] {
        if found {
            return Err(Error::new(kind, what));
        }
    }
    let target = Schema::new(vec![field.clone().with_nullable(true)]);
    let of_default = |mut e: Error| {
        e.message = e.message.replace(
            "but expression is of type",
            "but default expression is of type",
        );
        e
    };
    // A literal's own type as PostgreSQL gives it (`5` is an integer), then the planned type.
    if let Some(ast::Statement::Query(values)) = sqlparser::parser::Parser::parse_sql(
        &sqlparser::dialect::PostgreSqlDialect {},
        &format!("VALUES ({expr})"),
    )
    .ok()
    .and_then(|mut parsed| parsed.pop())
        && let ast::SetExpr::Values(values) = values.body.as_ref()
    {
        super::assignment_types::check_values(cx.df, values, &[Some(field)]).map_err(of_default)?;
    }
    super::assignment_types::check_by_position(&plan, &target).map_err(of_default)?;
    if is_quoted_literal(expr) {
        // A quoted literal is read by the column's type now, as PostgreSQL reads it: a default
        // no row could take (`int DEFAULT 'abc'`) is refused when declared. (Other
        // expressions, as there, are first computed by the writes that use them.)
        let typed = LogicalPlanBuilder::from(plan)
            .project(vec![
                datafusion::logical_expr::cast(
                    Expr::Column(datafusion::common::Column::from_name(column)),
                    field.data_type().clone(),
                )
                .alias(column),
            ])?
            .build()?;
        // A varchar(n) length is checked by the writes (PostgreSQL too takes a longer one).
        let checked = if crate::semantics::CharType::of(field).is_some() {
            typed
        } else {
            super::column_input::checked_rows(typed, &target)?
        };
        cx.df.execute_logical_plan(checked).await?.collect().await?;
    }
    Ok(super::names::spark_sql_text(expr))
}

/// Whether `expr` is a quoted literal (`'abc'`, `E'..'`, `$$..$$`).
fn is_quoted_literal(expr: &ast::Expr) -> bool {
    matches!(expr, ast::Expr::Value(v) if matches!(
        v.value,
        ast::Value::SingleQuotedString(_)
            | ast::Value::EscapedStringLiteral(_)
            | ast::Value::DollarQuotedString(_)
            | ast::Value::NationalStringLiteral(_)
    ))
}

/// `SELECT expr AS column`, planned as a statement is (its PostgreSQL forms rewritten).
async fn select_of(cx: &PlanContext<'_>, expr: &ast::Expr, column: &str) -> Result<LogicalPlan> {
    let alias = ast::Ident::with_quote('"', column);
    let statement = parsed_select(&format!("SELECT {expr} AS {alias}"))?;
    super::planned::logical_plan(&cx.df.state(), statement).await
}

/// A SELECT's text parsed by the dialect (its rewrites of PostgreSQL's forms applied).
fn parsed_select(sql: &str) -> Result<ast::Statement> {
    match crate::dialect::parse_single(sql)? {
        Some(crate::dialect::Statement::Sql(statement)) => Ok(*statement),
        _ => Err(Error::internal(format!("not a SELECT: {sql}"))),
    }
}

/// The defaults of `table`'s columns, as the expressions to write where a value is left out
/// (see [`default_select`]).
pub(super) fn stored(table: &deltalake::DeltaTable) -> Result<Vec<(String, ast::Expr)>> {
    default_selects(table)?
        .into_iter()
        .map(|(column, text, select)| {
            let unreadable = || unreadable(&column, &text);
            let ast::Statement::Query(query) = select else {
                return Err(unreadable());
            };
            let ast::SetExpr::Select(select) = *query.body else {
                return Err(unreadable());
            };
            match select.projection.into_iter().next() {
                // The dialect names a result column as PostgreSQL would (`AS "?column?"`).
                Some(
                    ast::SelectItem::UnnamedExpr(expr)
                    | ast::SelectItem::ExprWithAlias { expr, .. },
                ) => Ok((column, expr)),
                _ => Err(unreadable()),
            }
        })
        .collect()
}

/// The defaults of `table`'s `columns` (those that have one) as logical expressions, for a
/// write planned without SQL (COPY): each [`default_select`] planned as a statement is.
pub(super) async fn planned(
    cx: &PlanContext<'_>,
    table: &deltalake::DeltaTable,
    columns: &[String],
) -> Result<Vec<(String, Expr)>> {
    let mut planned = Vec::new();
    for (column, text, select) in default_selects(table)? {
        if !columns.contains(&column) {
            continue;
        }
        match super::planned::logical_plan(&cx.df.state(), select).await? {
            LogicalPlan::Projection(projection) if projection.expr.len() == 1 => {
                planned.push((column, projection.expr[0].clone().unalias()));
            }
            _ => return Err(unreadable(&column, &text)),
        }
    }
    Ok(planned)
}

/// Each stored default of `table` (column, text) with its [`default_select`].
fn default_selects(table: &deltalake::DeltaTable) -> Result<Vec<(String, String, ast::Statement)>> {
    let columns = crate::delta::table_arrow_schema(table)?;
    crate::delta::column_defaults(table)?
        .into_iter()
        .map(|(column, text)| {
            let field = columns.field_with_name(&column).ok();
            let select = default_select(&text, field.and_then(cast_type).as_deref())
                .map_err(|_| unreadable(&column, &text))?;
            Ok((column, text, select))
        })
        .collect()
}

/// `SELECT CAST((text) AS type)`: a stored default cast to its column's type (as PostgreSQL
/// coerces a default: `'{1,2}'` into an `int[]` column is an array), parsed once by the dialect
/// (so its PostgreSQL forms mean what they mean in queries).
fn default_select(text: &str, cast_to: Option<&str>) -> Result<ast::Statement> {
    parsed_select(&match cast_to {
        Some(type_name) => format!("SELECT CAST(({text}) AS {type_name})"),
        None => format!("SELECT {text}"),
    })
}

fn unreadable(column: &str, text: &str) -> Error {
    Error::unsupported(format!(
        "the default of column \"{column}\" ({text}) cannot be read"
    ))
    .with_hint("give the column's value in the statement, or ALTER COLUMN ... SET DEFAULT")
}

/// The type a default is cast to: the column's, but text for varchar(n) / char(n) (whose
/// explicit cast would cut a long value short where the write refuses it), and none for types
/// without a SQL name to cast to.
fn cast_type(field: &Field) -> Option<String> {
    use datafusion::arrow::datatypes::DataType;
    if crate::semantics::CharType::of(field).is_some() {
        return Some("text".to_string());
    }
    match field.data_type() {
        DataType::Struct(_) | DataType::Map(..) | DataType::Null => None,
        _ => Some(crate::catalog::format_type(field)),
    }
}

/// A default as the value it stands for in a statement's AST (parenthesized, so an operator
/// around it cannot bind into it).
pub(super) fn as_value(default: &ast::Expr) -> ast::Expr {
    ast::Expr::Nested(Box::new(default.clone()))
}

/// What `DEFAULT` stands for in `column`: its default, else NULL.
pub(super) fn value_of(defaults: &[(String, ast::Expr)], column: &str) -> ast::Expr {
    defaults
        .iter()
        .find(|(c, _)| c == column)
        .map(|(_, expr)| as_value(expr))
        .unwrap_or_else(|| ast::Expr::value(ast::Value::Null))
}

/// `plan` (rows shaped to a table's columns) with the columns of `defaults` given their
/// default instead of the NULL they hold (COPY's columns left out of its list).
pub(super) fn with_defaults(plan: LogicalPlan, defaults: &[(String, Expr)]) -> Result<LogicalPlan> {
    if defaults.is_empty() {
        return Ok(plan);
    }
    let projection: Vec<Expr> = plan
        .schema()
        .fields()
        .iter()
        .map(|field| {
            let given = Expr::Column(datafusion::common::Column::from_name(field.name()));
            match defaults.iter().find(|(c, _)| c == field.name()) {
                Some((_, default)) => {
                    datafusion::logical_expr::cast(default.clone(), field.data_type().clone())
                        .alias(field.name())
                }
                None => given,
            }
        })
        .collect();
    Ok(LogicalPlanBuilder::from(Arc::new(plan))
        .project(projection)?
        .build()?)
}
