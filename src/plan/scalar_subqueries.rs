//! Uncorrelated scalar subqueries in UPDATE and DELETE (`WHERE n > (SELECT avg(n) FROM t)`,
//! `SET price = (SELECT max(p) FROM s)`): delta-rs evaluates a predicate or value per file and
//! cannot run a subquery, so such a statement was refused (0A000). A subquery that reads no
//! column of the statement's own rows has one value for the whole statement, as PostgreSQL
//! computes it once: it is run first and replaced by that value as a typed constant. More than
//! one row is PostgreSQL's 21000. A correlated subquery is left in place (and refused further
//! on).

use std::ops::ControlFlow;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::ScalarValue;
use sqlparser::ast::{self, Expr, Query, visit_expressions_mut};

use super::PlanContext;
use crate::error::Result;

/// Replaces the uncorrelated scalar subqueries of `exprs` with their values (see the module
/// header).
pub async fn inline(cx: &PlanContext<'_>, exprs: Vec<&mut Expr>) -> Result<()> {
    for expr in exprs {
        let mut queries: Vec<Query> = Vec::new();
        let _ = visit_expressions_mut(expr, |e: &mut Expr| {
            if let Expr::Subquery(query) = e {
                queries.push(query.as_ref().clone());
            }
            ControlFlow::<()>::Continue(())
        });
        if queries.is_empty() {
            continue;
        }
        let mut values = Vec::with_capacity(queries.len());
        for query in &queries {
            values.push(value_of(cx, query).await?);
        }
        let mut values = values.into_iter();
        let _ = visit_expressions_mut(expr, |e: &mut Expr| {
            if matches!(e, Expr::Subquery(_))
                && let Some(Some(constant)) = values.next()
            {
                *e = constant;
            }
            ControlFlow::<()>::Continue(())
        });
    }
    Ok(())
}

/// The subquery's value as a constant, or `None` when it cannot be run on its own (it reads the
/// statement's rows) or its type has no constant form here.
async fn value_of(cx: &PlanContext<'_>, query: &Query) -> Result<Option<Expr>> {
    let Ok(frame) = cx.df.sql(&format!("SELECT ({query})")).await else {
        return Ok(None);
    };
    let batches = frame.collect().await?;
    let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
        return Ok(None);
    };
    let value = ScalarValue::try_from_array(batch.column(0), 0)?;
    Ok(constant(&value))
}

/// `value` as a constant the planner reads back as the same typed value.
fn constant(value: &ScalarValue) -> Option<Expr> {
    use ast::DataType as T;
    let data_type = match value.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::Int32 => T::Int(None),
        DataType::Int64 | DataType::UInt8 | DataType::UInt16 | DataType::UInt32 => T::BigInt(None),
        DataType::Float32 => T::Real,
        DataType::Float64 => T::DoublePrecision,
        DataType::Decimal128(p, s) => T::Numeric(ast::ExactNumberInfo::PrecisionAndScale(
            u64::from(p),
            i64::from(s),
        )),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => T::Text,
        DataType::Boolean => T::Boolean,
        DataType::Date32 => T::Date,
        DataType::Timestamp(TimeUnit::Microsecond | TimeUnit::Nanosecond, None) => {
            T::Timestamp(None, ast::TimezoneInfo::None)
        }
        _ => return None,
    };
    let text = match value {
        _ if value.is_null() => None,
        ScalarValue::Float64(Some(f)) => Some(format!("{f:?}")),
        ScalarValue::Float32(Some(f)) => Some(format!("{f:?}")),
        other => Some(other.to_string()),
    };
    // A decimal as a number literal: delta-rs's file pruning compares a decimal column only
    // with a decimal constant it can bring to the column's scale, which a cast hides.
    if let (Some(text), ScalarValue::Decimal128(..)) = (&text, value) {
        return Some(Expr::value(ast::Value::Number(text.clone(), false)));
    }
    let operand = match text {
        Some(text) => ast::Value::SingleQuotedString(text),
        None => ast::Value::Null,
    };
    Some(Expr::Cast {
        kind: ast::CastKind::Cast,
        expr: Box::new(Expr::value(operand)),
        data_type,
        array: false,
        format: None,
    })
}
