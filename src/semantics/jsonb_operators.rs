//! jsonb's `||` and `-` as PostgreSQL 15 answers them.
//!
//! `a || b` of two jsonb values: two objects give one with the keys of both (the right one's
//! value for a key both have), anything else is an array of both sides' elements (a side that
//! is no array counts as one element). `doc - 'k'` removes a key (or, in an array, the string
//! elements equal to it), `doc - 2` an array element (negative from the end), `doc - '{a,b}'::text[]`
//! several keys. Documents are text here, so DataFusion planned `||` as text concatenation
//! (`{"a": 1}{"b": 2}`, a silent wrong answer) and `-` not at all. A jsonb `||` a typed text is
//! text concatenation in PostgreSQL too (`anynonarray || text`) and stays so; `json` has neither
//! operator (42883).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use sqlparser::ast::BinaryOperator;

use super::json::{Member, Node, jsonb_text, parse_or_error, write_string};
use super::json_build::{Flavor, document_field, flavor_of};
use crate::error::ErrorKind;

/// What a [`JsonbOperator`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Op {
    /// `a || b`.
    Concat,
    /// `doc - key` / `doc - index` / `doc - keys`.
    Delete,
}

/// jsonb's `||` and `-` (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonbOperator {
    op: Op,
    signature: Signature,
}

static CONCAT: std::sync::LazyLock<Arc<ScalarUDF>> = std::sync::LazyLock::new(|| {
    Arc::new(ScalarUDF::from(JsonbOperator {
        op: Op::Concat,
        signature: Signature::any(2, Volatility::Immutable),
    }))
});

static DELETE: std::sync::LazyLock<Arc<ScalarUDF>> = std::sync::LazyLock::new(|| {
    Arc::new(ScalarUDF::from(JsonbOperator {
        op: Op::Delete,
        signature: Signature::any(2, Volatility::Immutable),
    }))
});

/// The call `left op right` is when it is one of jsonb's operators (`None`: not a document
/// operation; the caller plans it as before).
pub fn plan_operator(
    op: &BinaryOperator,
    left: &Expr,
    right: &Expr,
    schema: &DFSchema,
) -> Result<Option<Expr>> {
    if !matches!(op, BinaryOperator::StringConcat | BinaryOperator::Minus) {
        return Ok(None);
    }
    // A cast is to another type (`doc::text`; casts to json are functions): DataFusion keeps
    // the operand's mark through it, but the value is no document.
    let flavor = |e: &Expr| {
        if matches!(e.clone().unalias(), Expr::Cast(_) | Expr::TryCast(_)) {
            return None;
        }
        e.to_field(schema)
            .ok()
            .and_then(|(_, field)| flavor_of(&field))
    };
    let (lf, rf) = (flavor(left), flavor(right));
    if lf.is_none() && rf.is_none() {
        return Ok(None);
    }
    let jsonb = |e: &Expr| super::json::json_cast_udf(Flavor::Jsonb).call(vec![e.clone()]);
    match op {
        BinaryOperator::StringConcat => match (lf, rf) {
            (Some(Flavor::Jsonb), Some(Flavor::Jsonb)) => {
                Ok(Some(CONCAT.call(vec![left.clone(), right.clone()])))
            }
            (Some(Flavor::Jsonb), None) if is_untyped_text(right) => {
                Ok(Some(CONCAT.call(vec![left.clone(), jsonb(right)])))
            }
            (None, Some(Flavor::Jsonb)) if is_untyped_text(left) => {
                Ok(Some(CONCAT.call(vec![jsonb(left), right.clone()])))
            }
            (Some(l), Some(r)) => Err(no_operator(l.tag(), "||", r.tag())),
            _ => Ok(None),
        },
        _ => match lf {
            Some(Flavor::Jsonb) => {
                let rt = right.get_type(schema)?;
                let takes = rt.is_string()
                    || rt.is_integer()
                    || rt.is_null()
                    || matches!(&rt, DataType::List(f) if f.data_type().is_string() || f.data_type().is_null());
                if takes && rf.is_none() {
                    Ok(Some(DELETE.call(vec![left.clone(), right.clone()])))
                } else {
                    Err(no_operator("jsonb", "-", &rt.to_string()))
                }
            }
            Some(Flavor::Json) => Err(no_operator("json", "-", "unknown")),
            None => Ok(None),
        },
    }
}

/// A quoted literal or NULL: PostgreSQL reads it as a jsonb beside a jsonb.
fn is_untyped_text(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Literal(
            ScalarValue::Utf8(_)
                | ScalarValue::Utf8View(_)
                | ScalarValue::LargeUtf8(_)
                | ScalarValue::Null,
            _
        )
    )
}

/// 42883 as PostgreSQL words a missing operator.
fn no_operator(left: &str, op: &str, right: &str) -> datafusion::error::DataFusionError {
    super::pg_error(
        ErrorKind::UndefinedFunction,
        format!("operator does not exist: {left} {op} {right}"),
    )
}

impl ScalarUDFImpl for JsonbOperator {
    fn name(&self) -> &str {
        match self.op {
            Op::Concat => "pg_jsonb_concat",
            Op::Delete => "pg_jsonb_delete",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(document_field(self.name(), Flavor::Jsonb))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let op = self.op;
        super::over_arrays(&args, |arrays| {
            let docs = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let docs = docs.as_string::<i32>();
            let other = &arrays[1];
            let mut out = StringBuilder::with_capacity(docs.len(), docs.len() * 32);
            for row in 0..docs.len() {
                if docs.is_null(row) || other.is_null(row) {
                    out.append_null();
                    continue;
                }
                let doc = parse_or_error(docs.value(row))?;
                let written = match op {
                    Op::Concat => {
                        let texts = datafusion::arrow::compute::cast(other, &DataType::Utf8)?;
                        let right = parse_or_error(texts.as_string::<i32>().value(row))?;
                        concat(&doc, &right)?
                    }
                    Op::Delete => delete(&doc, other, row)?,
                };
                out.append_value(jsonb_text(&written)?);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// Writes an object of `members` (each value as its text).
fn write_object<'m, 'a: 'm>(
    members: impl Iterator<Item = &'m (String, Member<'a>)>,
    out: &mut String,
) -> Result<()> {
    out.push('{');
    for (i, (key, member)) in members.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_string(key, out)?;
        out.push_str(": ");
        out.push_str(member.text);
    }
    out.push('}');
    Ok(())
}

/// `left || right` as JSON text (the caller puts it in jsonb's form, which keeps the last of
/// duplicate keys: the right object's).
fn concat(left: &Member<'_>, right: &Member<'_>) -> Result<String> {
    let mut out = String::with_capacity(left.text.len() + right.text.len() + 4);
    if let (Node::Object(l), Node::Object(r)) = (&left.node, &right.node) {
        write_object(l.iter().chain(r.iter()), &mut out)?;
        return Ok(out);
    }
    let elements = |m: &'_ Member<'_>| -> Vec<String> {
        match &m.node {
            Node::Array(items) => items.iter().map(|i| i.text.to_string()).collect(),
            _ => vec![m.text.to_string()],
        }
    };
    let all: Vec<String> = elements(left).into_iter().chain(elements(right)).collect();
    out.push('[');
    out.push_str(&all.join(", "));
    out.push(']');
    Ok(out)
}

/// `doc - x` for row `row` of `x` (a key, an index or a list of keys) as JSON text.
fn delete(doc: &Member<'_>, x: &ArrayRef, row: usize) -> Result<String> {
    let keys: Option<Vec<String>> = match x.data_type() {
        t if t.is_integer() => None,
        DataType::List(_) => {
            let list = x.as_list::<i32>().value(row);
            let list = datafusion::arrow::compute::cast(&list, &DataType::Utf8)?;
            let list = list.as_string::<i32>();
            Some(
                (0..list.len())
                    .filter(|i| !list.is_null(*i))
                    .map(|i| list.value(i).to_string())
                    .collect(),
            )
        }
        _ => {
            let texts = datafusion::arrow::compute::cast(x, &DataType::Utf8)?;
            Some(vec![texts.as_string::<i32>().value(row).to_string()])
        }
    };
    let mut out = String::with_capacity(doc.text.len());
    match (&doc.node, keys) {
        (Node::Object(members), Some(keys)) => {
            write_object(members.iter().filter(|(k, _)| !keys.contains(k)), &mut out)?;
        }
        (Node::Array(items), Some(keys)) => {
            let kept: Vec<&str> = items
                .iter()
                .filter(|m| !matches!(&m.node, Node::Str(s) if keys.contains(s)))
                .map(|m| m.text)
                .collect();
            out.push('[');
            out.push_str(&kept.join(", "));
            out.push(']');
        }
        (Node::Array(items), None) => {
            let index = datafusion::arrow::compute::cast(x, &DataType::Int64)?;
            let index = index
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .value(row);
            let len = items.len() as i64;
            let at = if index < 0 { len + index } else { index };
            let kept: Vec<&str> = items
                .iter()
                .enumerate()
                .filter(|(i, _)| *i as i64 != at)
                .map(|(_, m)| m.text)
                .collect();
            out.push('[');
            out.push_str(&kept.join(", "));
            out.push(']');
        }
        (Node::Object(_), None) => {
            return Err(super::pg_error(
                ErrorKind::InvalidParameterValue,
                "cannot delete from object using integer index",
            ));
        }
        _ => {
            return Err(super::pg_error(
                ErrorKind::InvalidParameterValue,
                "cannot delete from scalar",
            ));
        }
    }
    Ok(out)
}

/// The operators' functions, for registration (a condition delta-rs reads back as text names
/// them).
pub fn functions() -> Vec<ScalarUDF> {
    vec![CONCAT.as_ref().clone(), DELETE.as_ref().clone()]
}
