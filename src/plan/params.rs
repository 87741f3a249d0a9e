//! `$n` parameters of the extended protocol: counting them and binding values into the statement.
//!
//! Binding replaces each placeholder with a typed literal before execution, so every execution
//! path (DataFusion plans and delta-rs operations alike) sees plain SQL values.

use std::ops::ControlFlow;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr as DfExpr;
use datafusion::sql::unparser::Unparser;
use sqlparser::ast::{self, CastKind, Expr, Value, visit_expressions, visit_expressions_mut};

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
    each_expression_mut(statement, &mut |e: &mut Expr| {
        if let Some(n) = placeholder_index(e) {
            *e = literals[n - 1].clone();
        }
    });
    Ok(())
}

/// Wraps each `$n` whose type the client declared in its Parse message in a cast to that type:
/// PostgreSQL gives a parameter its declared type, so `SELECT $1` with an int2 parameter answers
/// an int2 (described and sent as one), where an undeclared one stays `unknown` (text). Only
/// the types whose SQL form means the same here and in PostgreSQL are cast (integers, floats,
/// boolean, date, numeric, timestamps, time, interval, bytea); others (text and varchar too:
/// JDBC declares every string varchar) are left to inference as before.
pub fn cast_declared_parameters(statement: &mut Statement, declared: &[Option<DataType>]) {
    if declared.iter().all(|t| sql_type(t.as_ref()).is_none()) {
        return;
    }
    each_expression_mut(statement, &mut |e: &mut Expr| {
        let Some(n) = placeholder_index(e) else {
            return;
        };
        if let Some(data_type) = sql_type(declared.get(n - 1).and_then(|t| t.as_ref())) {
            *e = Expr::Cast {
                kind: CastKind::Cast,
                expr: Box::new(e.clone()),
                data_type,
                array: false,
                format: None,
            };
        }
    });
}

/// The SQL type a declared parameter type is cast to; None where the type has no SQL name here
/// or is left to inference.
fn sql_type(declared: Option<&DataType>) -> Option<ast::DataType> {
    Some(match declared? {
        DataType::Int16 => ast::DataType::SmallInt(None),
        DataType::Int32 => ast::DataType::Int(None),
        DataType::Int64 => ast::DataType::BigInt(None),
        DataType::Float32 => ast::DataType::Real,
        DataType::Float64 => ast::DataType::DoublePrecision,
        DataType::Boolean => ast::DataType::Boolean,
        DataType::Date32 => ast::DataType::Date,
        DataType::Decimal128(..) => ast::DataType::Numeric(ast::ExactNumberInfo::None),
        DataType::Timestamp(_, Some(_)) => {
            ast::DataType::Timestamp(None, ast::TimezoneInfo::WithTimeZone)
        }
        DataType::Timestamp(_, None) => ast::DataType::Timestamp(None, ast::TimezoneInfo::None),
        DataType::Time64(_) => ast::DataType::Time(None, ast::TimezoneInfo::None),
        DataType::Interval(_) => ast::DataType::Interval {
            fields: None,
            precision: None,
        },
        DataType::Binary => ast::DataType::Bytea,
        DataType::List(element) => {
            let element = match element.data_type() {
                DataType::Utf8 => ast::DataType::Text,
                other => sql_type(Some(other))?,
            };
            ast::DataType::Array(ast::ArrayElemTypeDef::SquareBracket(
                Box::new(element),
                None,
            ))
        }
        _ => return None,
    })
}

/// Calls `f` on every expression of the statement (each node after its children).
fn each_expression_mut(statement: &mut Statement, f: &mut dyn FnMut(&mut Expr)) {
    let mut visit = |e: &mut Expr| {
        f(e);
        ControlFlow::<()>::Continue(())
    };
    let _ = match statement {
        Statement::Sql(s) | Statement::Merge { merge: s, .. } => {
            visit_expressions_mut(s.as_mut(), &mut visit)
        }
        Statement::CreateTable(c) => match &mut c.query {
            Some(q) => visit_expressions_mut(q.as_mut(), &mut visit),
            None => ControlFlow::Continue(()),
        },
        Statement::InsertReplaceWhere {
            predicate, query, ..
        } => {
            let _ = visit_expressions_mut(predicate, &mut visit);
            visit_expressions_mut(query.as_mut(), &mut visit)
        }
        Statement::Restore { to, .. } => match to {
            TimeTravel::Version(e) | TimeTravel::Timestamp(e) => {
                visit_expressions_mut(e, &mut visit)
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
    fn declared_parameter_types_become_casts() {
        let mut s = parse_single("SELECT $1, $2 + 1 FROM t LIMIT $3")
            .unwrap()
            .unwrap();
        cast_declared_parameters(
            &mut s,
            &[Some(DataType::Int16), None, Some(DataType::Int64)],
        );
        let text = s.to_string();
        assert!(text.contains("CAST($1 AS SMALLINT) AS"), "{text}");
        assert!(text.contains(", $2 + 1 AS"), "{text}");
        assert!(text.ends_with("LIMIT CAST($3 AS BIGINT)"), "{text}");
        bind_parameters(
            &mut s,
            &[
                ScalarValue::Int16(Some(5)),
                ScalarValue::Int64(Some(2)),
                ScalarValue::Int64(Some(3)),
            ],
        )
        .unwrap();
        let text = s.to_string();
        assert!(text.contains("CAST(5 AS SMALLINT) AS"), "{text}");
        assert!(text.ends_with("LIMIT CAST(3 AS BIGINT)"), "{text}");
    }

    #[test]
    fn too_few_values_is_a_protocol_error() {
        let mut s = parse_single("SELECT $2").unwrap().unwrap();
        let e = bind_parameters(&mut s, &[ScalarValue::Int32(Some(1))]).unwrap_err();
        assert_eq!(e.sqlstate(), "08P01");
    }
}
