//! Parameter types a statement gives by casting a parameter to `oid` or `oid[]` (`ti.oid =
//! any($1::oid[])`), described to the client as PostgreSQL describes them, and `oid[]` values
//! decoded.
//!
//! Why: the planner types parameters with Arrow types, which have no `oid`, and leaves a
//! parameter it only sees cast as unknown. asyncpg encodes a parameter by the type the server
//! describes: for unknown it wants a string, and its type introspection (run for every array
//! type it does not know, e.g. `bigint[]`) binds a list of oids. Other casts are left to the
//! planner's inference.

use std::collections::HashMap;
use std::ops::ControlFlow;

use datafusion::arrow::datatypes::DataType as ArrowType;
use datafusion::common::ScalarValue;
use pgwire::api::Type;
use pgwire::api::portal::Portal;
use pgwire::error::PgWireResult;
use sqlparser::ast::{ArrayElemTypeDef, DataType, Expr, Value, visit_expressions};

/// The `oid` / `oid[]` type of each parameter (0-based) that `sql` casts to one.
pub fn cast_parameter_types(sql: &str) -> HashMap<usize, Type> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let Ok(statements) = sqlparser::parser::Parser::parse_sql(&dialect, sql) else {
        return HashMap::new();
    };
    let mut found = HashMap::new();
    let _ = visit_expressions(&statements, |expr| {
        if let Expr::Cast {
            expr: inner,
            data_type,
            ..
        } = expr
            && let Expr::Value(value) = inner.as_ref()
            && let Value::Placeholder(name) = &value.value
            && let Some(index) = name
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|n| *n >= 1)
            && let Some(pg_type) = oid_type(data_type)
        {
            found.entry(index - 1).or_insert(pg_type);
        }
        ControlFlow::<()>::Continue(())
    });
    found
}

/// `oid` or `oid[]` (any qualification, any array spelling).
fn oid_type(data_type: &DataType) -> Option<Type> {
    let is_oid = |t: &DataType| matches!(t, DataType::Custom(name, _) if name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| i.value.eq_ignore_ascii_case("oid")));
    match data_type {
        t if is_oid(t) => Some(Type::OID),
        DataType::Array(
            ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::Parenthesis(inner),
        ) if is_oid(inner) => Some(Type::OID_ARRAY),
        _ => None,
    }
}

/// The value of an `oid[]` parameter (text or binary format) as the list of Int32 the catalog's
/// oid columns hold.
pub fn decode_oid_array<S: Clone>(portal: &Portal<S>, index: usize) -> PgWireResult<ScalarValue> {
    let values: Option<Vec<Option<u32>>> = portal.parameter(index, &Type::OID_ARRAY)?;
    Ok(match values {
        Some(values) => {
            let scalars: Vec<ScalarValue> = values
                .into_iter()
                .map(|v| ScalarValue::Int32(v.map(|v| v as i32)))
                .collect();
            ScalarValue::List(ScalarValue::new_list_nullable(&scalars, &ArrowType::Int32))
        }
        None => ScalarValue::new_null_list(ArrowType::Int32, true, 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_oid_and_oid_array_casts_only() {
        let found = cast_parameter_types(
            "SELECT 1 FROM pg_type t WHERE t.oid = any($1::oid[]) AND t.typelem = $2::pg_catalog.oid \
             AND t.typlen = $3::int",
        );
        assert_eq!(found.get(&0), Some(&Type::OID_ARRAY));
        assert_eq!(found.get(&1), Some(&Type::OID));
        assert_eq!(found.get(&2), None);
        assert_eq!(found.len(), 2, "{found:?}");
    }
}
