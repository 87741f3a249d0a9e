//! jsonb's containment and existence operators on text documents, as PostgreSQL 15 answers
//! them: `a @> b` / `b <@ a` (planned as `pg_jsonb_contains(a, b)`), `doc ? key` (planned as
//! `pg_jsonb_exists(doc, key)`), and `doc ?| keys` / `doc ?& keys` (any / all of a text array,
//! its NULL elements ignored: planned as `pg_jsonb_exists_any` / `pg_jsonb_exists_all`).
//!
//! Containment follows PostgreSQL's rules: scalars are equal (numbers by value, `1.0` = `1`),
//! an object contains another when every key of the other is present with a contained value,
//! an array contains another when each element of the other is contained in some element of
//! it, and a top-level array contains a bare scalar it holds. `?` is true for a top-level key of
//! an object, a string element of a top-level array, or a top-level string equal to the key.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::json::{Member, Node, numeric_text, parse_or_error};

/// The function `a @> b` is planned as.
pub const CONTAINS: &str = "pg_jsonb_contains";
/// The function `doc ? key` is planned as.
pub const EXISTS: &str = "pg_jsonb_exists";
/// The function `doc ?| keys` is planned as.
pub const EXISTS_ANY: &str = "pg_jsonb_exists_any";
/// The function `doc ?& keys` is planned as.
pub const EXISTS_ALL: &str = "pg_jsonb_exists_all";

/// `doc ?| keys` (any) or `doc ?& keys` (all) on a text document and a text array.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonbExistsKeys {
    all: bool,
    signature: Signature,
}

impl JsonbExistsKeys {
    fn new(all: bool) -> Self {
        Self {
            all,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for JsonbExistsKeys {
    fn name(&self) -> &str {
        if self.all { EXISTS_ALL } else { EXISTS_ANY }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all = self.all;
        super::over_arrays(&args, |arrays| {
            let docs = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let docs = docs.as_string::<i32>();
            let keys = &arrays[1];
            let mut out = BooleanBuilder::with_capacity(docs.len());
            for row in 0..docs.len() {
                if docs.is_null(row) || keys.is_null(row) {
                    out.append_null();
                    continue;
                }
                let Some((listed, _)) = super::json_build::list_row(keys, row) else {
                    return Err(super::pg_error(
                        crate::error::ErrorKind::UndefinedFunction,
                        format!(
                            "operator does not exist: jsonb {} {}",
                            if all { "?&" } else { "?|" },
                            keys.data_type()
                        ),
                    ));
                };
                let listed = datafusion::arrow::compute::cast(&listed, &DataType::Utf8)?;
                let listed = listed.as_string::<i32>();
                let doc = parse_or_error(docs.value(row))?;
                let mut present = (0..listed.len())
                    .filter(|&i| !listed.is_null(i))
                    .map(|i| has_key(&doc, listed.value(i)));
                out.append_value(if all {
                    present.all(|p| p)
                } else {
                    present.any(|p| p)
                });
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// `@>` or `?` on text documents (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonbTest {
    exists: bool,
    signature: Signature,
}

impl JsonbTest {
    fn new(exists: bool) -> Self {
        Self {
            exists,
            signature: Signature::string(2, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for JsonbTest {
    fn name(&self) -> &str {
        if self.exists { EXISTS } else { CONTAINS }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let exists = self.exists;
        super::over_arrays(&args, |arrays| {
            let left = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let right = datafusion::arrow::compute::cast(&arrays[1], &DataType::Utf8)?;
            let (left, right) = (left.as_string::<i32>(), right.as_string::<i32>());
            let mut out = BooleanBuilder::with_capacity(left.len());
            for row in 0..left.len() {
                if left.is_null(row) || right.is_null(row) {
                    out.append_null();
                    continue;
                }
                let doc = parse_or_error(left.value(row))?;
                out.append_value(if exists {
                    has_key(&doc, right.value(row))
                } else {
                    let other = parse_or_error(right.value(row))?;
                    contains_top(&doc, &other)?
                });
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

fn has_key(doc: &Member<'_>, key: &str) -> bool {
    match &doc.node {
        Node::Object(members) => members.iter().any(|(k, _)| k == key),
        Node::Array(items) => items
            .iter()
            .any(|m| matches!(&m.node, Node::Str(s) if s == key)),
        Node::Str(s) => s == key,
        _ => false,
    }
}

/// Containment at the top level, where an array may contain a bare scalar.
fn contains_top(a: &Member<'_>, b: &Member<'_>) -> Result<bool> {
    if let (Node::Array(items), Node::Null | Node::Bool(_) | Node::Number(_) | Node::Str(_)) =
        (&a.node, &b.node)
    {
        for item in items {
            if scalar_equal(item, b)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    contains(a, b)
}

fn contains(a: &Member<'_>, b: &Member<'_>) -> Result<bool> {
    Ok(match (&a.node, &b.node) {
        (Node::Object(mine), Node::Object(theirs)) => {
            for (key, wanted) in theirs {
                // jsonb keeps the last of duplicate keys.
                let Some((_, have)) = mine.iter().rev().find(|(k, _)| k == key) else {
                    return Ok(false);
                };
                if !contains(have, wanted)? {
                    return Ok(false);
                }
            }
            true
        }
        (Node::Array(mine), Node::Array(theirs)) => {
            for wanted in theirs {
                let mut found = false;
                for have in mine {
                    if contains(have, wanted)? {
                        found = true;
                        break;
                    }
                }
                if !found {
                    return Ok(false);
                }
            }
            true
        }
        (Node::Object(_) | Node::Array(_), _) | (_, Node::Object(_) | Node::Array(_)) => false,
        _ => scalar_equal(a, b)?,
    })
}

fn scalar_equal(a: &Member<'_>, b: &Member<'_>) -> Result<bool> {
    Ok(match (&a.node, &b.node) {
        (Node::Null, Node::Null) => true,
        (Node::Bool(x), Node::Bool(y)) => x == y,
        (Node::Str(x), Node::Str(y)) => x == y,
        (Node::Number(x), Node::Number(y)) => number_value(x)? == number_value(y)?,
        _ => false,
    })
}

/// A number's value as text without trailing fractional zeros, so equal values compare equal.
fn number_value(text: &str) -> Result<String> {
    let written = numeric_text(text)?;
    Ok(if written.contains('.') {
        written
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        written
    })
}

/// `a @> b`, `a <@ b`, `a ? b`, `a ?| b` and `a ?& b` on text operands as this module's
/// functions; None for other operators.
pub fn plan_operator(
    op: &datafusion::sql::sqlparser::ast::BinaryOperator,
    left: Expr,
    right: Expr,
) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::BinaryOperator as Op;
    let call = |exists: bool, args: Vec<Expr>| {
        Arc::new(ScalarUDF::from(JsonbTest::new(exists))).call(args)
    };
    match op {
        Op::AtArrow => Some(call(false, vec![left, right])),
        Op::ArrowAt => Some(call(false, vec![right, left])),
        Op::Question => Some(call(true, vec![left, right])),
        Op::QuestionPipe | Op::QuestionAnd => Some(
            Arc::new(ScalarUDF::from(JsonbExistsKeys::new(matches!(
                op,
                Op::QuestionAnd
            ))))
            .call(vec![left, right]),
        ),
        _ => None,
    }
}

/// Every function of this module, for registration.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(JsonbTest::new(false)),
        ScalarUDF::from(JsonbTest::new(true)),
        ScalarUDF::from(JsonbExistsKeys::new(false)),
        ScalarUDF::from(JsonbExistsKeys::new(true)),
    ]
}
