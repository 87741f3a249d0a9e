//! Parameters of the extended protocol: the types a client declares in its Parse message, and
//! the values of a Bind decoded (text or binary) into Arrow scalars by those types, the types
//! the statement was planned with, or text.

use datafusion::arrow::datatypes::{DataType, IntervalUnit, TimeUnit};
use datafusion::common::{ParamValues, ScalarValue};
use pgwire::api::Type;
use pgwire::api::portal::Portal;
use pgwire::error::PgWireResult;

use super::encode::pg_error;
use super::prepared::PreparedStatement;
use crate::error::{Error, ErrorKind};

/// The Arrow type of a parameter type a client declared, for the types a declaration changes
/// (see `plan::cast_declared_parameters`); None for the rest, left to inference.
pub(super) fn declared_type(pg: &Type) -> Option<DataType> {
    Some(match *pg {
        Type::INT2 => DataType::Int16,
        Type::INT4 => DataType::Int32,
        Type::INT8 => DataType::Int64,
        Type::FLOAT4 => DataType::Float32,
        Type::FLOAT8 => DataType::Float64,
        Type::BOOL => DataType::Boolean,
        Type::DATE => DataType::Date32,
        // A numeric parameter was read as the type inferred for it (`$1 * 2` made 1.25 the
        // bigint 1), a timestamptz lost its zone, and an interval, time, timestamp or bytea in
        // binary format came back as its raw bytes in a text.
        Type::NUMERIC => DataType::Decimal128(38, 10),
        Type::TIMESTAMPTZ => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Type::TIMESTAMP => DataType::Timestamp(TimeUnit::Microsecond, None),
        Type::TIME => DataType::Time64(TimeUnit::Microsecond),
        Type::INTERVAL => DataType::Interval(IntervalUnit::MonthDayNano),
        Type::BYTEA => DataType::Binary,
        // Arrays of the element types above that the parameter decoder reads.
        Type::BOOL_ARRAY
        | Type::INT2_ARRAY
        | Type::INT4_ARRAY
        | Type::INT8_ARRAY
        | Type::FLOAT4_ARRAY
        | Type::FLOAT8_ARRAY
        | Type::TEXT_ARRAY
        | Type::VARCHAR_ARRAY => {
            let element = match *pg {
                Type::BOOL_ARRAY => DataType::Boolean,
                Type::INT2_ARRAY => DataType::Int16,
                Type::INT4_ARRAY => DataType::Int32,
                Type::INT8_ARRAY => DataType::Int64,
                Type::FLOAT4_ARRAY => DataType::Float32,
                Type::FLOAT8_ARRAY => DataType::Float64,
                _ => DataType::Utf8,
            };
            DataType::new_list(element, true)
        }
        _ => return None,
    })
}

/// Bound parameter values as Arrow scalars, decoded (text or binary) by their PostgreSQL types.
pub(super) fn decode_parameters(
    portal: &Portal<PreparedStatement>,
    statement: &PreparedStatement,
) -> PgWireResult<Vec<ScalarValue>> {
    let count = portal.parameter_len();
    if count == 0 {
        return Ok(Vec::new());
    }
    let declared = &portal.statement.parameter_types;
    let inferred = &statement.prepared.description.param_types;
    let text = DataType::Utf8;
    // A type the client declared and the statement casts to (see `declared_type`) is read as
    // that type, a numeric with its own scale.
    let declared_types: Vec<Option<DataType>> = (0..count)
        .map(|i| {
            declared
                .get(i)
                .cloned()
                .flatten()
                .and_then(|t| declared_type(&t))
        })
        .collect();
    let arrow_types: Vec<Option<&DataType>> = (0..count)
        .map(|i| {
            let client_declared = declared.get(i).cloned().flatten().is_some();
            match (&declared_types[i], inferred.get(i).and_then(|t| t.as_ref())) {
                (Some(DataType::Decimal128(..)), _) => None,
                (Some(t), _) => Some(t),
                (None, Some(t)) => Some(t),
                // Unknown on both sides: read the value as text and let SQL coercion type it.
                (None, None) if !client_declared => Some(&text),
                (None, None) => None,
            }
        })
        .collect();
    // `oid[]` parameters (see param_casts) and uuid parameters (the library reads a binary
    // uuid as text and fails) are decoded here. The library reads them as NULL text, replaced
    // below.
    let is_uuid = |i: usize| {
        statement.param_types.get(i) == Some(&Type::UUID)
            || declared.get(i).cloned().flatten() == Some(Type::UUID)
    };
    let oid_arrays: Vec<usize> = (0..count)
        .filter(|i| statement.param_types.get(*i) == Some(&Type::OID_ARRAY))
        .collect();
    let uuids: Vec<usize> = (0..count).filter(|i| is_uuid(*i)).collect();
    let mut arrow_types = arrow_types;
    let mut server_types: Vec<Option<&Type>> =
        (0..count).map(|i| statement.param_types.get(i)).collect();
    let mut without_own = None;
    if !oid_arrays.is_empty() || !uuids.is_empty() {
        // The library would decode them by the type the client declared: that is dropped too.
        let mut stored = pgwire::api::stmt::StoredStatement::new(
            portal.statement.id.clone(),
            portal.statement.statement.clone(),
            portal.statement.parameter_types.clone(),
        );
        for &i in oid_arrays.iter().chain(&uuids) {
            if let Some(declared) = stored.parameter_types.get_mut(i) {
                *declared = None;
            }
        }
        let mut copy = Portal::new_cursor(portal.name.clone(), std::sync::Arc::new(stored));
        copy.parameter_format = portal.parameter_format.clone();
        copy.parameters = portal.parameters.clone();
        for &i in oid_arrays.iter().chain(&uuids) {
            copy.parameters[i] = None;
            arrow_types[i] = Some(&text);
            server_types[i] = None;
        }
        without_own = Some(copy);
    }
    let values = arrow_pg::datatypes::df::deserialize_parameters_with_server_types(
        without_own.as_ref().unwrap_or(portal),
        &arrow_types,
        &server_types,
    )?;
    let mut values: Vec<ScalarValue> = match values {
        ParamValues::List(list) => list.into_iter().map(|v| v.value).collect(),
        ParamValues::Map(_) => {
            return Err(pg_error(&Error::internal(
                "named parameters are not supported",
            )));
        }
    };
    if values.len() != count {
        return Err(pg_error(&Error::new(
            ErrorKind::ProtocolViolation,
            format!("could not decode all {count} parameters"),
        )));
    }
    for i in oid_arrays {
        values[i] = super::param_casts::decode_oid_array(portal, i)?;
    }
    for i in uuids {
        let Some(raw) = portal.parameters.get(i).cloned().flatten() else {
            continue;
        };
        let text = super::uuid_values::parameter_text(&raw, portal.parameter_format.is_binary(i))
            .ok_or_else(|| {
            pg_error(&Error::new(
                ErrorKind::InvalidTextRepresentation,
                format!(
                    "invalid input syntax for type uuid: \"{}\"",
                    String::from_utf8_lossy(&raw)
                ),
            ))
        })?;
        values[i] = ScalarValue::Utf8(Some(text));
    }
    Ok(values)
}
