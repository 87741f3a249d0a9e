//! `jsonb_set(target, path, new_value [, create_if_missing])` as PostgreSQL 15 answers it: the
//! value at `path` (object keys; array indexes, negative from the end) replaced by `new_value`;
//! a missing last key added (or, for an array index past either end, the value prepended or
//! appended) unless `create_if_missing` is false; a missing intermediate step leaves the
//! document as it is. The result is written in jsonb's form. A NULL argument gives NULL;
//! a path into a scalar is 22023, a non-integer array step 22P02.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::json::{Member, Node, jsonb_text, parse_or_error, path_elements, write_string};
use super::json_build::{Flavor, document_field};
use crate::error::ErrorKind;

/// `jsonb_set` (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonbSet {
    signature: Signature,
}

impl JsonbSet {
    fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Any(3),
                    datafusion::logical_expr::TypeSignature::Any(4),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for JsonbSet {
    fn name(&self) -> &str {
        "jsonb_set"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(document_field("jsonb_set", Flavor::Jsonb))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let text = |a: &ArrayRef| datafusion::arrow::compute::cast(a, &DataType::Utf8);
            let targets = text(&arrays[0])?;
            let targets = targets.as_string::<i32>();
            let values = text(&arrays[2])?;
            let values = values.as_string::<i32>();
            let create = match arrays.get(3) {
                Some(a) => Some(datafusion::arrow::compute::cast(a, &DataType::Boolean)?),
                None => None,
            };
            let mut out = StringBuilder::new();
            for row in 0..targets.len() {
                let create_missing = match &create {
                    Some(c) if c.is_null(row) => None,
                    Some(c) => Some(c.as_boolean().value(row)),
                    None => Some(true),
                };
                let path = path_at(&arrays[1], row)?;
                let (Some(create_missing), Some(path)) = (create_missing, path) else {
                    out.append_null();
                    continue;
                };
                if targets.is_null(row) || values.is_null(row) {
                    out.append_null();
                    continue;
                }
                let target = parse_or_error(targets.value(row))?;
                let value = jsonb_text(values.value(row))?;
                let mut written = String::new();
                set(&target, &path, 0, &value, create_missing, &mut written)?;
                out.append_value(jsonb_text(&written)?);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// The path of one row: a text array, or the text of one (`'{a,0}'`); None for NULL.
fn path_at(paths: &ArrayRef, row: usize) -> Result<Option<Vec<String>>> {
    if paths.is_null(row) {
        return Ok(None);
    }
    let Some((list, _)) = super::json_build::list_row(paths, row) else {
        let texts = datafusion::arrow::compute::cast(paths, &DataType::Utf8)?;
        let text = texts.as_string::<i32>().value(row).to_string();
        return path_elements(&text).map(Some).ok_or_else(|| {
            super::pg_error(
                ErrorKind::InvalidTextRepresentation,
                format!("malformed array literal: \"{text}\""),
            )
        });
    };
    let list = datafusion::arrow::compute::cast(&list, &DataType::Utf8)?;
    let list = list.as_string::<i32>();
    Ok(Some(
        (0..list.len()).map(|i| list.value(i).to_string()).collect(),
    ))
}

/// Writes `member` with the value at `path[depth..]` set, every other value as written: the
/// caller puts the whole result in jsonb's form (a duplicate key is set in each place, and the
/// form keeps the last, as jsonb has it).
fn set(
    member: &Member<'_>,
    path: &[String],
    depth: usize,
    value: &str,
    create: bool,
    out: &mut String,
) -> Result<()> {
    let Some(step) = path.get(depth) else {
        out.push_str(value);
        return Ok(());
    };
    let last = depth + 1 == path.len();
    match &member.node {
        Node::Object(members) => {
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, out)?;
                out.push_str(": ");
                if key == step {
                    set(item, path, depth + 1, value, create, out)?;
                } else {
                    out.push_str(item.text);
                }
            }
            if last && create && !members.iter().any(|(k, _)| k == step) {
                if !members.is_empty() {
                    out.push_str(", ");
                }
                write_string(step, out)?;
                out.push_str(": ");
                out.push_str(value);
            }
            out.push('}');
        }
        Node::Array(items) => {
            let index: i64 = step.trim().parse().map_err(|_| {
                super::pg_error(
                    ErrorKind::InvalidTextRepresentation,
                    format!(
                        "path element at position {} is not an integer: \"{step}\"",
                        depth + 1
                    ),
                )
            })?;
            let len = items.len() as i64;
            let at = if index < 0 { len + index } else { index };
            let added = last && create && !(0..len).contains(&at);
            out.push('[');
            if added && at < 0 {
                out.push_str(value);
                if !items.is_empty() {
                    out.push_str(", ");
                }
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if i as i64 == at {
                    set(item, path, depth + 1, value, create, out)?;
                } else {
                    out.push_str(item.text);
                }
            }
            if added && at >= 0 {
                if !items.is_empty() {
                    out.push_str(", ");
                }
                out.push_str(value);
            }
            out.push(']');
        }
        _ => {
            return Err(super::pg_error(
                ErrorKind::InvalidParameterValue,
                "cannot set path in scalar",
            ));
        }
    }
    Ok(())
}

/// Every function of this module, for registration.
pub fn functions() -> Vec<ScalarUDF> {
    vec![ScalarUDF::from(JsonbSet::new())]
}
