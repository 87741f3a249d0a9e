//! `json[b]_strip_nulls` and `jsonb_pretty` as PostgreSQL 15 answers them:
//! - `jsonb_strip_nulls(doc)`: every object field whose value is `null` removed, at any depth
//!   (`null` elements of arrays stay), written in jsonb's form; `json_strip_nulls` the same,
//!   written compactly (`{"a":1}`) as PostgreSQL's json version writes it.
//! - `jsonb_pretty(doc)`: jsonb's form with one value per line, four spaces per level, and an
//!   empty array or object written open and closed on two lines, as PostgreSQL prints it.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::json::{Member, Node, jsonb_text, numeric_text, parse_or_error, write_string};
use super::json_build::{Flavor, document_field};

/// Which of the functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    StripNulls(Flavor),
    Pretty,
}

/// One of the functions (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonShape {
    shape: Shape,
    name: &'static str,
    signature: Signature,
}

impl ScalarUDFImpl for JsonShape {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(match self.shape {
            Shape::StripNulls(flavor) => document_field(self.name, flavor),
            Shape::Pretty => Arc::new(Field::new(self.name, DataType::Utf8, true)),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let docs = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let docs = docs.as_string::<i32>();
            let mut out = StringBuilder::new();
            for row in 0..docs.len() {
                if docs.is_null(row) {
                    out.append_null();
                    continue;
                }
                let mut text = String::new();
                match self.shape {
                    Shape::StripNulls(Flavor::Json) => {
                        write_stripped(&parse_or_error(docs.value(row))?, &mut text)?;
                    }
                    Shape::StripNulls(Flavor::Jsonb) => {
                        write_stripped(&parse_or_error(docs.value(row))?, &mut text)?;
                        text = jsonb_text(&text)?;
                    }
                    Shape::Pretty => {
                        let normal = jsonb_text(docs.value(row))?;
                        write_pretty(&parse_or_error(&normal)?, 0, &mut text)?;
                    }
                }
                out.append_value(&text);
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// Writes `member` compactly without its objects' `null` fields.
fn write_stripped(member: &Member<'_>, out: &mut String) -> Result<()> {
    match &member.node {
        Node::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_stripped(item, out)?;
            }
            out.push(']');
        }
        Node::Object(members) => {
            out.push('{');
            let kept = members
                .iter()
                .filter(|(_, v)| !matches!(v.node, Node::Null));
            for (i, (key, value)) in kept.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out)?;
                out.push(':');
                write_stripped(value, out)?;
            }
            out.push('}');
        }
        scalar => write_scalar(scalar, false, out)?,
    }
    Ok(())
}

/// Writes `member` (already in jsonb's form) as `jsonb_pretty` does, at nesting `level`.
fn write_pretty(member: &Member<'_>, level: usize, out: &mut String) -> Result<()> {
    let indent = |out: &mut String, level: usize| {
        out.push('\n');
        out.push_str(&"    ".repeat(level));
    };
    match &member.node {
        Node::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                write_pretty(item, level + 1, out)?;
            }
            indent(out, level);
            out.push(']');
        }
        Node::Object(members) => {
            out.push('{');
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, level + 1);
                write_string(key, out)?;
                out.push_str(": ");
                write_pretty(value, level + 1, out)?;
            }
            indent(out, level);
            out.push('}');
        }
        scalar => write_scalar(scalar, true, out)?,
    }
    Ok(())
}

/// Writes a string, number, boolean or null; a number as written, or as jsonb (numeric) prints
/// it when `numeric`.
fn write_scalar(node: &Node<'_>, numeric: bool, out: &mut String) -> Result<()> {
    match node {
        Node::Str(s) => write_string(s, out)?,
        Node::Number(n) if numeric => out.push_str(&numeric_text(n)?),
        Node::Number(n) => out.push_str(n),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Null => out.push_str("null"),
        Node::Array(_) | Node::Object(_) => {}
    }
    Ok(())
}

/// The functions, for registration.
pub fn functions() -> Vec<ScalarUDF> {
    [
        (Shape::StripNulls(Flavor::Json), "json_strip_nulls"),
        (Shape::StripNulls(Flavor::Jsonb), "jsonb_strip_nulls"),
        (Shape::Pretty, "jsonb_pretty"),
    ]
    .into_iter()
    .map(|(shape, name)| {
        ScalarUDF::from(JsonShape {
            shape,
            name,
            signature: Signature::any(1, Volatility::Immutable),
        })
    })
    .collect()
}
