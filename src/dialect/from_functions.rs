//! `generate_series(...)`, `generate_subscripts(...)` (as the series it is) and `unnest(array)` in FROM, named as PostgreSQL names their column:
//! after the function (`SELECT * FROM generate_series(1, 3)` has a column `generate_series`;
//! DataFusion's was `value`, and unnest's `UNNEST(make_array(...))`), or after the table alias
//! when there is one without column names (`FROM generate_series(1, 3) g` has a column `g`).
//! `WITH ORDINALITY` is refused (0A000): DataFusion has no such numbering, and the column
//! would have been left out.

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, Ident, ObjectNamePart, Query, TableAlias, TableAliasColumnDef, TableFactor, VisitMut,
    VisitorMut,
};

use crate::error::{Error, ErrorKind, Result};

/// Names the columns of the set-returning functions in the FROM clauses of `statement`.
pub fn rewrite(statement: &mut ast::Statement) -> Result<()> {
    match statement.visit(&mut FromFunctions) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

/// [`rewrite`] for a query.
pub fn rewrite_query(query: &mut Query) -> Result<()> {
    match query.visit(&mut FromFunctions) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(()),
    }
}

struct FromFunctions;

/// The alias that names a one-column function's column: `function(function)` with none,
/// `t(t)` for an alias `t` without column names.
fn name_the_column(alias: &mut Option<TableAlias>, function: &str) {
    match alias {
        None => {
            *alias = Some(TableAlias {
                explicit: true,
                name: Ident::new(function),
                columns: vec![TableAliasColumnDef::from_name(function)],
                at: None,
            })
        }
        Some(alias) if alias.columns.is_empty() => {
            alias
                .columns
                .push(TableAliasColumnDef::from_name(alias.name.value.clone()));
        }
        Some(_) => {}
    }
}

/// Names each of `count` columns `function` (kept apart inside the engine by
/// `output_names`' suffix) unless the query named them.
fn name_the_columns(alias: &mut Option<TableAlias>, function: &str, count: usize) {
    let columns = (0..count)
        .map(|i| TableAliasColumnDef::from_name(super::output_names::nth_duplicate(function, i)))
        .collect();
    match alias {
        None => {
            *alias = Some(TableAlias {
                explicit: true,
                name: Ident::new(function),
                columns,
                at: None,
            })
        }
        Some(alias) if alias.columns.is_empty() => alias.columns = columns,
        Some(_) => {}
    }
}

fn no_ordinality() -> Error {
    Error::new(
        ErrorKind::FeatureNotSupported,
        "WITH ORDINALITY is supported for unnest of one array and the JSON set-returning functions only",
    )
    .with_hint("number the rows in a subquery: SELECT x, row_number() OVER () AS n FROM ...")
}

/// A table function's arguments when all are plain expressions (no names).
fn plain_arguments(args: &[ast::FunctionArg]) -> Option<Vec<ast::Expr>> {
    args.iter()
        .map(|arg| match arg {
            ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// `generate_series`' quoted step and endpoints typed as PostgreSQL types them (see
/// `pg_forms::series_of_instants`).
fn type_series_arguments(args: &mut [ast::FunctionArg]) {
    let Some(typed) = plain_arguments(args)
        .filter(|p| p.len() == 3)
        .and_then(super::pg_forms::series_of_instants)
    else {
        return;
    };
    for (arg, expr) in args.iter_mut().zip(typed) {
        *arg = ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(expr));
    }
}

impl VisitorMut for FromFunctions {
    type Break = Error;

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<Error> {
        match factor {
            TableFactor::Table {
                with_ordinality: true,
                ..
            }
            | TableFactor::Function {
                with_ordinality: true,
                ..
            }
            | TableFactor::UNNEST {
                with_ordinality: true,
                ..
            } => return ControlFlow::Break(no_ordinality()),
            TableFactor::Table {
                name,
                args: Some(args),
                alias,
                ..
            } => {
                if let [ObjectNamePart::Identifier(ident)] = name.0.as_slice()
                    && ident.value.eq_ignore_ascii_case("generate_series")
                {
                    name_the_column(alias, "generate_series");
                    type_series_arguments(&mut args.args);
                }
                // `generate_subscripts(a, dim [, reverse])` as the series it is.
                if let [ObjectNamePart::Identifier(ident)] = name.0.as_mut_slice()
                    && ident.value.eq_ignore_ascii_case("generate_subscripts")
                    && let Some(plain) = plain_arguments(&args.args)
                    && let Some(series) = super::pg_forms::subscript_series(plain)
                {
                    name_the_column(alias, "generate_subscripts");
                    ident.value = "generate_series".into();
                    args.args = series
                        .into_iter()
                        .map(|e| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)))
                        .collect();
                }
            }
            TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                ..
            } if array_exprs.len() == 1 => name_the_column(alias, "unnest"),
            // Several arrays side by side: each column is `unnest`, as PostgreSQL names them.
            TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                ..
            } => name_the_columns(alias, "unnest", array_exprs.len()),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
