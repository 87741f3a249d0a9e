//! PostgreSQL's rule for a value assigned to a column of another type.
//!
//! PostgreSQL converts an assigned value only where an assignment cast exists: numbers to any
//! number, dates and timestamps among themselves, anything to a string type; a string typed as
//! text, a boolean to an integer or an integer to a timestamp is 42804 ("column "i" is of type
//! integer but expression is of type text"). DataFusion casts whatever Arrow can, so
//! `INSERT INTO t (ts) SELECT 1700000000` stored 1970-01-01 00:28:20 and an integer column
//! took a date's day number. A quoted literal has no type of its own (`VALUES ('7')` into an
//! integer column is read by the column's input), and neither has a parameter.

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};

use crate::error::{Error, ErrorKind, Result};

/// Checks the rows an INSERT planned by DataFusion writes (`input`: the projection that casts
/// each source column to its target column's type) into the columns of `table` (whose fields
/// say which are json documents).
pub fn check_insert(
    input: &LogicalPlan,
    table: &datafusion::arrow::datatypes::Schema,
) -> Result<()> {
    let LogicalPlan::Projection(projection) = input else {
        return Ok(());
    };
    let source = projection.input.as_ref();
    for (expr, target) in projection.expr.iter().zip(projection.schema.fields()) {
        let column = match unaliased(expr) {
            Expr::Cast(cast) => match cast.expr.as_ref() {
                Expr::Column(column) => column,
                _ => continue,
            },
            Expr::TryCast(cast) => match cast.expr.as_ref() {
                Expr::Column(column) => column,
                _ => continue,
            },
            Expr::Column(column) => column,
            _ => continue,
        };
        let Ok(index) = source.schema().index_of_column(column) else {
            continue;
        };
        if untyped(source, index) {
            continue;
        }
        let value = source.schema().field(index);
        let target = table
            .field_with_name(target.name())
            .unwrap_or(target.as_ref());
        check(target.name(), target, value)?;
    }
    Ok(())
}

/// Checks the columns of `query`, written by position into columns `target` (INSERT ...
/// REPLACE WHERE), as [`check_insert`] checks an INSERT's.
pub fn check_by_position(
    query: &LogicalPlan,
    target: &datafusion::arrow::datatypes::Schema,
) -> Result<()> {
    let values = query.schema();
    for (index, column) in target
        .fields()
        .iter()
        .enumerate()
        .take(values.fields().len())
    {
        if !untyped(query, index) {
            check(column.name(), column, values.field(index))?;
        }
    }
    Ok(())
}

/// Checks the values of an `INSERT ... VALUES` that have a type of their own (numbers,
/// booleans, casts) against `columns` (the target column of each position; `None` where there
/// is none). DataFusion plans VALUES with the columns' types, casting such a value before any
/// check sees it: `VALUES (5)` into a timestamp column stored 1970-01-01 00:00:00.000005.
/// A cast's type is worked out once per type named, so long VALUES lists stay cheap.
pub fn check_values(
    ctx: &datafusion::prelude::SessionContext,
    values: &sqlparser::ast::Values,
    columns: &[Option<&Field>],
) -> Result<()> {
    use datafusion::execution::SessionState;
    use sqlparser::ast::{Expr as Sql, UnaryOperator, Value};
    /// The casts' types by the type named, and the state that worked them out (copied from
    /// the session only when a cast is met).
    struct Casts<'a> {
        ctx: &'a datafusion::prelude::SessionContext,
        state: Option<SessionState>,
        types: std::collections::HashMap<String, Option<DataType>>,
    }
    fn own_type(value: &Sql, casts: &mut Casts<'_>) -> Option<DataType> {
        match value {
            Sql::Value(v) => match &v.value {
                // PostgreSQL's type of a numeric constant: integer, bigint or numeric.
                Value::Number(n, _) => Some(if n.parse::<i32>().is_ok() {
                    DataType::Int32
                } else if n.parse::<i64>().is_ok() {
                    DataType::Int64
                } else {
                    DataType::Decimal128(38, 10)
                }),
                Value::Boolean(_) => Some(DataType::Boolean),
                _ => None,
            },
            Sql::UnaryOp {
                op: UnaryOperator::Minus,
                expr,
            } => own_type(expr, casts),
            Sql::Nested(inner) => own_type(inner, casts),
            Sql::Cast { data_type, .. }
            | Sql::TypedString(sqlparser::ast::TypedString { data_type, .. }) => {
                let name = data_type.to_string();
                if let Some(known) = casts.types.get(&name) {
                    return known.clone();
                }
                let state = casts.state.get_or_insert_with(|| casts.ctx.state());
                let empty = DFSchema::empty();
                let typed = state
                    .create_logical_expr(&format!("CAST(NULL AS {name})"), &empty)
                    .and_then(|typed| typed.get_type(&empty))
                    .ok();
                casts.types.insert(name, typed.clone());
                typed
            }
            _ => None,
        }
    }
    let mut casts = Casts {
        ctx,
        state: None,
        types: std::collections::HashMap::new(),
    };
    for row in &values.rows {
        for (value, column) in row.content.iter().zip(columns) {
            if let Some(column) = column
                && let Some(own) = own_type(value, &mut casts)
            {
                check(column.name(), column, &Field::new("", own, true))?;
            }
        }
    }
    Ok(())
}

/// Checks `value` (a SET or MERGE value planned over the rows it reads) for `column`, typed as
/// the session's analyzer types it; a quoted literal, NULL or parameter has no type of its own
/// (the column's input reads it). Returns the value's type when it was worked out.
pub fn check_assigned(
    column: &Field,
    value: &Expr,
    exprs: &super::write_exprs::WriteExprs,
) -> Result<Option<FieldRef>> {
    if is_untyped_literal(value) {
        return Ok(None);
    }
    let Some(field) = exprs.analyzed_field(value.clone()) else {
        return Ok(None);
    };
    check(column.name(), column, &field)?;
    Ok(Some(field))
}

/// 42804 unless a `value` field may be assigned to the `target` column.
fn check(column: &str, target: &Field, value: &Field) -> Result<()> {
    if assignable(value.data_type(), target.data_type()) && !non_text_into_document(target, value) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::DatatypeMismatch,
        format!(
            "column \"{column}\" is of type {} but expression is of type {}",
            crate::catalog::format_type_name(target),
            crate::catalog::format_type_name(value)
        ),
    )
    .with_hint("You will need to rewrite or cast the expression."))
}

/// A number, boolean, date, ... assigned to a json / jsonb column (text there is read by the
/// column's input, which refuses what is no JSON; PostgreSQL refuses text too, 42804).
fn non_text_into_document(target: &Field, value: &Field) -> bool {
    crate::semantics::json_flavor_of(target).is_some()
        && !matches!(kind(value.data_type()), Kind::Null | Kind::String)
}

/// Whether column `index` of `plan` is made only of quoted literals, NULLs and parameters
/// (followed through the projections and aliases that pass it on).
fn untyped(plan: &LogicalPlan, index: usize) -> bool {
    match plan {
        LogicalPlan::Projection(projection) => match projection.expr.get(index).map(unaliased) {
            Some(Expr::Column(column)) => projection
                .input
                .schema()
                .index_of_column(column)
                .is_ok_and(|i| untyped(&projection.input, i)),
            Some(expr) => is_untyped_literal(expr),
            None => false,
        },
        LogicalPlan::SubqueryAlias(alias) => untyped(&alias.input, index),
        LogicalPlan::Values(values) => values
            .values
            .iter()
            .all(|row| row.get(index).is_some_and(is_untyped_literal)),
        _ => false,
    }
}

/// A quoted literal, NULL or parameter: a value PostgreSQL types by where it goes.
fn is_untyped_literal(expr: &Expr) -> bool {
    match unaliased(expr) {
        Expr::Literal(value, _) => matches!(
            value,
            ScalarValue::Null
                | ScalarValue::Utf8(_)
                | ScalarValue::LargeUtf8(_)
                | ScalarValue::Utf8View(_)
        ),
        Expr::Placeholder(_) => true,
        _ => false,
    }
}

fn unaliased(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(alias) => unaliased(&alias.expr),
        other => other,
    }
}

/// The kinds of values PostgreSQL's assignment casts distinguish.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    String,
    Number,
    Boolean,
    Date,
    Timestamp,
    Time,
    Interval,
    Binary,
    List,
    Struct,
    Map,
    Other,
}

fn kind(data_type: &DataType) -> Kind {
    use DataType::*;
    match data_type {
        Null => Kind::Null,
        t if t.is_string() => Kind::String,
        Dictionary(_, value) => kind(value),
        Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float16 | Float32
        | Float64 | Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => Kind::Number,
        Boolean => Kind::Boolean,
        Date32 | Date64 => Kind::Date,
        Timestamp(..) => Kind::Timestamp,
        Time32(_) | Time64(_) => Kind::Time,
        Interval(_) | Duration(_) => Kind::Interval,
        t if t.is_binary() => Kind::Binary,
        t if t.is_list() => Kind::List,
        Struct(_) => Kind::Struct,
        Map(..) => Kind::Map,
        _ => Kind::Other,
    }
}

/// Whether PostgreSQL assigns a `source` value to a `target` column.
fn assignable(source: &DataType, target: &DataType) -> bool {
    match (kind(source), kind(target)) {
        (Kind::Null, _) | (_, Kind::String) | (Kind::Other, _) | (_, Kind::Other) => true,
        (Kind::String, _) => false,
        (Kind::Date, Kind::Timestamp) => true,
        (Kind::Timestamp, Kind::Date | Kind::Time) => true,
        (Kind::Interval, Kind::Time) => true,
        (Kind::List, Kind::List) => match (
            crate::semantics::list_element(source),
            crate::semantics::list_element(target),
        ) {
            (Some(s), Some(t)) => assignable(s, t),
            _ => true,
        },
        (s, t) => s == t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::TimeUnit;

    #[test]
    fn follows_postgresql_assignment_casts() {
        use DataType::*;
        let ts = Timestamp(TimeUnit::Microsecond, None);
        assert!(assignable(&Float64, &Int32));
        assert!(assignable(&Int64, &Decimal128(10, 2)));
        assert!(assignable(&Date32, &ts));
        assert!(assignable(&ts, &Date32));
        assert!(assignable(&Int64, &Utf8));
        assert!(assignable(&Boolean, &Utf8View));
        assert!(!assignable(&Utf8, &Int32));
        assert!(!assignable(&Int64, &Boolean));
        assert!(!assignable(&Boolean, &Int32));
        assert!(!assignable(&Int64, &ts));
        assert!(!assignable(&Date32, &Int32));
        assert!(!assignable(&Utf8, &Binary));
        let ints = List(std::sync::Arc::new(Field::new("item", Int64, true)));
        assert!(!assignable(&ints, &Int32));
        assert!(!assignable(&Int32, &ints));
    }
}
