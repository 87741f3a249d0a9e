//! `$n` parameters of the extended protocol: counting them and binding values into the statement.
//!
//! Binding replaces each placeholder with a typed literal before execution, so every execution
//! path (DataFusion plans and delta-rs operations alike) sees plain SQL values.

use std::ops::ControlFlow;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr as DfExpr;
use datafusion::sql::unparser::Unparser;
use sqlparser::ast::{Expr, Value, visit_expressions, visit_expressions_mut};

use crate::dialect::{Statement, TimeTravel};
use crate::error::{Error, ErrorKind, Result};

/// The highest `$n` in the statement (PostgreSQL's parameter count).
pub fn count_parameters(statement: &Statement) -> usize {
    let mut max = 0usize;
    let mut visit = |e: &Expr| {
        if let Some(n) = placeholder_index(e) {
            max = max.max(n);
        }
        ControlFlow::<()>::Continue(())
    };
    let _ = match statement {
        Statement::Sql(s) | Statement::Merge { merge: s, .. } => {
            visit_expressions(s.as_ref(), &mut visit)
        }
        Statement::CreateTable(c) => match &c.query {
            Some(q) => visit_expressions(q.as_ref(), &mut visit),
            None => ControlFlow::Continue(()),
        },
        Statement::InsertReplaceWhere {
            predicate, query, ..
        } => {
            let _ = visit_expressions(predicate, &mut visit);
            visit_expressions(query.as_ref(), &mut visit)
        }
        Statement::Restore { to, .. } => visit_expressions(time_travel_expr(to), &mut visit),
        Statement::DescribeHistory { .. }
        | Statement::DescribeDetail { .. }
        | Statement::Vacuum { .. }
        | Statement::AlterViewRename { .. }
        | Statement::UnsetTblProperties { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::DescribeTable { .. }
        | Statement::ShowCreateTable { .. }
        | Statement::ConvertToDelta { .. } => ControlFlow::Continue(()),
    };
    max
}

/// Replaces `$1..$n` with the given values (as typed SQL literals).
pub fn bind_parameters(statement: &mut Statement, values: &[ScalarValue]) -> Result<()> {
    let needed = count_parameters(statement);
    if values.len() < needed {
        return Err(Error::new(
            ErrorKind::ProtocolViolation,
            format!(
                "bind message supplies {} parameters, but prepared statement requires {needed}",
                values.len()
            ),
        ));
    }
    if needed == 0 {
        return Ok(());
    }
    let literals: Vec<Expr> = values.iter().map(literal_for).collect::<Result<_>>()?;
    let mut replace = |e: &mut Expr| {
        if let Some(n) = placeholder_index(e) {
            *e = literals[n - 1].clone();
        }
        ControlFlow::<()>::Continue(())
    };
    let _ = match statement {
        Statement::Sql(s) | Statement::Merge { merge: s, .. } => {
            visit_expressions_mut(s.as_mut(), &mut replace)
        }
        Statement::CreateTable(c) => match &mut c.query {
            Some(q) => visit_expressions_mut(q.as_mut(), &mut replace),
            None => ControlFlow::Continue(()),
        },
        Statement::InsertReplaceWhere {
            predicate, query, ..
        } => {
            let _ = visit_expressions_mut(predicate, &mut replace);
            visit_expressions_mut(query.as_mut(), &mut replace)
        }
        Statement::Restore { to, .. } => match to {
            TimeTravel::Version(e) | TimeTravel::Timestamp(e) => {
                visit_expressions_mut(e, &mut replace)
            }
        },
        Statement::DescribeHistory { .. }
        | Statement::DescribeDetail { .. }
        | Statement::Vacuum { .. }
        | Statement::AlterViewRename { .. }
        | Statement::UnsetTblProperties { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. }
        | Statement::DescribeTable { .. }
        | Statement::ShowCreateTable { .. }
        | Statement::ConvertToDelta { .. } => ControlFlow::Continue(()),
    };
    Ok(())
}

fn time_travel_expr(t: &TimeTravel) -> &Expr {
    match t {
        TimeTravel::Version(e) | TimeTravel::Timestamp(e) => e,
    }
}

fn placeholder_index(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Placeholder(p) => p
                .strip_prefix('$')?
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0),
            _ => None,
        },
        _ => None,
    }
}

/// A SQL literal carrying the value's type (`CAST('2024-01-01' AS DATE)`, `42`, `'text'`).
fn literal_for(value: &ScalarValue) -> Result<Expr> {
    let unparser = Unparser::default();
    unparser
        .expr_to_sql(&DfExpr::Literal(value.clone(), None))
        .map_err(|e| {
            Error::new(
                ErrorKind::FeatureNotSupported,
                format!(
                    "parameters of type {} are not supported: {e}",
                    value.data_type()
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::parse_single;

    #[test]
    fn binds_typed_literals() {
        let mut s = parse_single("SELECT * FROM t WHERE a = $1 AND b = $2 AND c = $1")
            .unwrap()
            .unwrap();
        assert_eq!(count_parameters(&s), 2);
        bind_parameters(
            &mut s,
            &[
                ScalarValue::Int64(Some(7)),
                ScalarValue::Utf8(Some("x'y".into())),
            ],
        )
        .unwrap();
        assert_eq!(
            s.to_string(),
            "SELECT * FROM t WHERE a = 7 AND b = 'x''y' AND c = 7"
        );
    }

    #[test]
    fn too_few_values_is_a_protocol_error() {
        let mut s = parse_single("SELECT $2").unwrap().unwrap();
        let e = bind_parameters(&mut s, &[ScalarValue::Int32(Some(1))]).unwrap_err();
        assert_eq!(e.sqlstate(), "08P01");
    }
}
