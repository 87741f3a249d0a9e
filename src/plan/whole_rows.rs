//! PostgreSQL's whole-row reference: a relation's name used as a value (`SELECT to_json(t)
//! FROM t`, `row_to_json(t)`, `json_agg(t ORDER BY ...)`, `SELECT t FROM t`, `count(t)`), the
//! row as a record of its columns. DataFusion has no such value and refused with `column "t"
//! does not exist`. When planning fails so and `t` names a relation in a FROM clause of the
//! statement (a table, an alias, a subquery, a CTE), the statement is planned again with each
//! such `t` written as `named_struct('c1', t.c1, ...)` over that relation's columns. Statements
//! that plan are never rewritten.

use std::ops::ControlFlow;

use datafusion::common::SchemaError;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionState;
use datafusion::sql::parser::Statement as DfStatement;
use sqlparser::ast::{
    self, Expr, Ident, ObjectNamePart, Query, TableFactor, Value, Visit, Visitor,
};

use crate::dialect::call;

/// The unqualified name DataFusion found no column for, when that is why planning failed.
pub fn missing_column(error: &DataFusionError) -> Option<String> {
    match error.find_root() {
        DataFusionError::SchemaError(schema_error, _) => match schema_error.as_ref() {
            SchemaError::FieldNotFound { field, .. } if field.relation.is_none() => {
                Some(field.name.clone())
            }
            _ => None,
        },
        _ => None,
    }
}

/// Whether `statement` uses a bare name that is also the name of one of its FROM relations:
/// only such a statement is kept for a second attempt (a cheap look before planning).
pub fn candidate(statement: &ast::Statement) -> bool {
    let mut seen = NamesSeen::default();
    let _ = statement.visit(&mut seen);
    seen.identifiers
        .iter()
        .any(|i| seen.relations.iter().any(|r| r == i))
}

/// The relation names and the bare identifiers of a statement, folded as PostgreSQL folds them.
#[derive(Default)]
struct NamesSeen {
    relations: Vec<String>,
    identifiers: Vec<String>,
}

fn folded(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

impl Visitor for NamesSeen {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        if let Some(name) = relation_name(factor) {
            self.relations.push(folded(name));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        if let Expr::Identifier(ident) = expr {
            self.identifiers.push(folded(ident));
        }
        ControlFlow::Continue(())
    }
}

/// The name a FROM relation is known by: its alias, else a table's own name.
fn relation_name(factor: &TableFactor) -> Option<&Ident> {
    match factor {
        TableFactor::Table { alias: Some(a), .. }
        | TableFactor::Derived { alias: Some(a), .. }
        | TableFactor::Function { alias: Some(a), .. }
        | TableFactor::UNNEST { alias: Some(a), .. } => Some(&a.name),
        TableFactor::Table {
            name, alias: None, ..
        } => match name.0.last() {
            Some(ObjectNamePart::Identifier(i)) => Some(i),
            _ => None,
        },
        _ => None,
    }
}

/// `statement` with the whole-row references to `name` written as records, or None when no
/// relation of its FROM clauses is called `name` (the column is then truly missing).
pub async fn rewrite(
    state: &SessionState,
    statement: &ast::Statement,
    name: &str,
) -> Option<ast::Statement> {
    let ast::Statement::Query(query) = statement else {
        return None;
    };
    let mut found = RelationsNamed {
        name,
        factors: Vec::new(),
    };
    let _ = statement.visit(&mut found);
    // One relation by that name (a self-join's two `t`s would be ambiguous).
    let [factor] = found.factors.as_slice() else {
        return None;
    };
    let columns = columns_of(state, query, factor).await?;
    let record = record_of(name, &columns);
    let mut rewritten = statement.clone();
    let _ = ast::visit_expressions_mut(&mut rewritten, |expr: &mut Expr| {
        if let Expr::Identifier(ident) = expr
            && names(ident, name)
        {
            *expr = record.clone();
        }
        ControlFlow::<()>::Continue(())
    });
    Some(rewritten)
}

/// Whether an identifier as written means `name` (unquoted identifiers fold to lower case).
fn names(ident: &Ident, name: &str) -> bool {
    folded(ident) == name
}

/// Collects the FROM relations whose alias (or, without one, table name) is `name`.
struct RelationsNamed<'a> {
    name: &'a str,
    factors: Vec<TableFactor>,
}

impl Visitor for RelationsNamed<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        let named = relation_name(factor).is_some_and(|n| names(n, self.name));
        if named {
            self.factors.push(factor.clone());
        }
        ControlFlow::Continue(())
    }
}

/// The column names of `factor`, planned as `SELECT * FROM factor` under `query`'s WITH.
async fn columns_of(
    state: &SessionState,
    query: &Query,
    factor: &TableFactor,
) -> Option<Vec<String>> {
    let with = query
        .with
        .as_ref()
        .map(|w| format!("{w} "))
        .unwrap_or_default();
    let sql = format!("{with}SELECT * FROM {factor}");
    let dialect = crate::dialect::LakehouseDialect::default();
    let probe = sqlparser::parser::Parser::parse_sql(&dialect, &sql)
        .ok()?
        .pop()?;
    let plan = state
        .statement_to_plan(DfStatement::Statement(Box::new(probe)))
        .await
        .ok()?;
    Some(
        plan.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
    )
}

/// `named_struct('c1', name.c1, ...)`.
fn record_of(name: &str, columns: &[String]) -> Expr {
    let args = columns
        .iter()
        .flat_map(|column| {
            [
                Expr::value(Value::SingleQuotedString(column.clone())),
                Expr::CompoundIdentifier(vec![
                    Ident::with_quote('"', name),
                    Ident::with_quote('"', column),
                ]),
            ]
        })
        .collect();
    call("named_struct", args)
}
