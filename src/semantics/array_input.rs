//! Array texts as PostgreSQL reads them: `'{a,"b c",NULL}'::text[]`, `'{{1,2},{3,4}}'::int[][]`.
//!
//! Arrow's cast from text to a list casts the whole text to the element type and wraps it in a
//! one-element list, so `'{a,b}'::text[]` was the one-element array `{"{a,b}"}` and
//! `'{1,2}'::int[]` failed. [`PgArrayIn`] is PostgreSQL's `array_in`: braces, `,` between
//! elements, double quotes and backslash escapes, unquoted `NULL`, whitespace around elements
//! ignored, sub-arrays of one length; each element is then read by its type's input (bytea's
//! and timestamps' as the semantics rule reads them, others by the cast). A literal with more
//! or fewer dimensions than the target type has is refused (0A000): PostgreSQL's `int[]` takes
//! any number, an Arrow list type has a fixed one.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, AsArray, BinaryArray, ListArray, StringArray, new_empty_array,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::compute::{CastOptions, cast, cast_with_options};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::{Error, ErrorKind};

/// A parsed array text: a sub-array or an element (`None` for `NULL`).
#[derive(Debug, PartialEq)]
enum Node {
    List(Vec<Node>),
    Element(Option<String>),
}

fn malformed(text: &str, detail: &str) -> Error {
    Error::new(
        ErrorKind::InvalidTextRepresentation,
        format!("malformed array literal: \"{text}\" ({detail})"),
    )
}

/// Reads `text` as PostgreSQL's `array_in` does, without typing the elements.
fn parse(text: &str) -> std::result::Result<Node, Error> {
    let mut rest = text.trim_start();
    let mut declared = None;
    if rest.starts_with('[') {
        let (after, lengths) = without_bounds(text, rest)?;
        rest = after;
        declared = Some(lengths);
    }
    let Some(body) = rest.strip_prefix('{') else {
        return Err(malformed(
            text,
            "array value must start with \"{\" or dimension information",
        ));
    };
    let mut chars = body.chars().peekable();
    let node = parse_list(text, &mut chars)?;
    if chars.any(|c| !c.is_whitespace()) {
        return Err(malformed(text, "junk after closing right brace"));
    }
    check_rectangular(text, &node)?;
    if declared.is_some_and(|declared| declared != lengths(&node)) {
        return Err(malformed(
            text,
            "specified array dimensions do not match array contents",
        ));
    }
    Ok(node)
}

/// `[1:n][1:m]={...}` bounds: the lengths they declare (a lower bound other than 1 is refused:
/// Arrow lists start at 1), and the text after `=`.
fn without_bounds<'a>(
    text: &str,
    mut rest: &'a str,
) -> std::result::Result<(&'a str, Vec<usize>), Error> {
    let mut lengths = Vec::new();
    while let Some(after) = rest.strip_prefix('[') {
        let Some((bounds, tail)) = after.split_once(']') else {
            return Err(malformed(text, "missing \"]\" in array dimensions"));
        };
        let (lower, upper) = bounds.split_once(':').unwrap_or(("1", bounds));
        let (Ok(lower), Ok(upper)) = (lower.trim().parse::<i64>(), upper.trim().parse::<i64>())
        else {
            return Err(malformed(text, "invalid array dimensions"));
        };
        if lower != 1 {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                format!(
                    "array lower bounds other than 1 are not supported: \"{text}\"; \
                     write the array without its dimensions"
                ),
            ));
        }
        lengths.push(usize::try_from(upper).unwrap_or(0));
        rest = tail.trim_start();
    }
    let rest = rest
        .strip_prefix('=')
        .map(str::trim_start)
        .ok_or_else(|| malformed(text, "missing \"=\" after array dimensions"))?;
    Ok((rest, lengths))
}

/// The length of each dimension of a checked array.
fn lengths(node: &Node) -> Vec<usize> {
    match node {
        Node::List(items) => {
            let mut out = vec![items.len()];
            out.extend(items.first().map(lengths).unwrap_or_default());
            out
        }
        Node::Element(_) => Vec::new(),
    }
}

fn parse_list(
    text: &str,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) -> std::result::Result<Node, Error> {
    let mut items = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.peek() {
            Some('}') if items.is_empty() => {
                chars.next();
                return Ok(Node::List(items));
            }
            Some('{') => {
                chars.next();
                items.push(parse_list(text, chars)?);
            }
            Some('"') => {
                chars.next();
                let mut value = String::new();
                loop {
                    match chars.next() {
                        Some('\\') => match chars.next() {
                            Some(c) => value.push(c),
                            None => return Err(malformed(text, "unexpected end of input")),
                        },
                        Some('"') => break,
                        Some(c) => value.push(c),
                        None => return Err(malformed(text, "unexpected end of input")),
                    }
                }
                items.push(Node::Element(Some(value)));
            }
            Some(_) => {
                let (mut value, mut escaped, mut kept) = (String::new(), false, 0);
                while let Some(&c) = chars.peek() {
                    match c {
                        ',' | '}' => break,
                        '{' | '"' => return Err(malformed(text, "unexpected character")),
                        '\\' => {
                            chars.next();
                            let Some(c) = chars.next() else {
                                return Err(malformed(text, "unexpected end of input"));
                            };
                            value.push(c);
                            escaped = true;
                            kept = value.len();
                        }
                        _ => {
                            chars.next();
                            value.push(c);
                            if !c.is_whitespace() {
                                kept = value.len();
                            }
                        }
                    }
                }
                value.truncate(kept);
                if value.is_empty() && !escaped {
                    return Err(malformed(text, "unexpected \",\" or \"}\" character"));
                }
                let null = !escaped && value.eq_ignore_ascii_case("NULL");
                items.push(Node::Element((!null).then_some(value)));
            }
            None => return Err(malformed(text, "unexpected end of input")),
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next() {
            Some(',') => continue,
            Some('}') => return Ok(Node::List(items)),
            _ => return Err(malformed(text, "unexpected array element")),
        }
    }
}

/// The number of dimensions of a checked array (`{}` has one).
fn depth(node: &Node) -> usize {
    lengths(node).len()
}

/// Sub-arrays of one level have one length, and a level holds only sub-arrays or only
/// elements (PostgreSQL: "Multidimensional arrays must have sub-arrays with matching
/// dimensions").
fn check_rectangular(text: &str, node: &Node) -> std::result::Result<(), Error> {
    let mut level: Vec<&Node> = vec![node];
    loop {
        let mut lengths = level.iter().map(|n| match n {
            Node::List(items) => Some(items.len()),
            Node::Element(_) => None,
        });
        let first = lengths.next().flatten();
        if lengths.any(|l| l != first) {
            return Err(malformed(
                text,
                "multidimensional arrays must have sub-arrays with matching dimensions",
            ));
        }
        if first.is_none() {
            return Ok(());
        }
        level = level
            .iter()
            .flat_map(|n| match n {
                Node::List(items) => items.iter().collect::<Vec<_>>(),
                Node::Element(_) => Vec::new(),
            })
            .collect();
        if level.is_empty() {
            return Ok(());
        }
    }
}

/// The number of list levels of `data_type`.
fn list_depth(data_type: &DataType) -> usize {
    match data_type {
        DataType::List(field) => 1 + list_depth(field.data_type()),
        _ => 0,
    }
}

/// Element texts read as `data_type` by its input function.
fn element_values(texts: &StringArray, data_type: &DataType) -> Result<ArrayRef> {
    let strict = CastOptions {
        safe: false,
        ..Default::default()
    };
    let texts: ArrayRef = match data_type {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => {
            let bytes = texts
                .iter()
                .map(|t| t.map(super::bytea_in).transpose())
                .collect::<std::result::Result<Vec<_>, Error>>()
                .map_err(super::external)?;
            Arc::new(BinaryArray::from_iter(bytes))
        }
        DataType::Timestamp(_, _) => Arc::new(StringArray::from_iter(texts.iter().map(|t| {
            t.map(|t| super::timestamp_input::with_seconds(t).unwrap_or_else(|| t.into()))
        }))),
        _ => Arc::new(texts.clone()),
    };
    Ok(cast_with_options(&texts, data_type, &strict)?)
}

/// The arrays of `data_type` the `nodes` stand for (`None`: a NULL array).
fn build(nodes: &[Option<&Node>], data_type: &DataType) -> Result<ArrayRef> {
    match data_type {
        DataType::List(field) => {
            let mut offsets = Vec::with_capacity(nodes.len() + 1);
            offsets.push(0i32);
            let mut children = Vec::new();
            for node in nodes {
                if let Some(Node::List(items)) = node {
                    children.extend(items.iter().map(Some));
                }
                offsets.push(children.len() as i32);
            }
            let values = if children.is_empty() {
                new_empty_array(field.data_type())
            } else {
                build(&children, field.data_type())?
            };
            let nulls = NullBuffer::from_iter(nodes.iter().map(Option::is_some));
            Ok(Arc::new(ListArray::try_new(
                field.clone(),
                OffsetBuffer::new(offsets.into()),
                values,
                Some(nulls),
            )?))
        }
        element => {
            let texts: StringArray = nodes
                .iter()
                .map(|node| match node {
                    Some(Node::Element(value)) => value.as_deref(),
                    _ => None,
                })
                .collect();
            element_values(&texts, element)
        }
    }
}

/// Array texts read as arrays of `target` (a list type), as PostgreSQL's `array_in` reads
/// them; COPY reads array columns with it.
pub fn array_in(texts: &StringArray, target: &DataType) -> Result<ArrayRef> {
    let wanted = list_depth(target);
    let parsed = texts
        .iter()
        .map(|t| {
            t.map(|t| {
                let node = parse(t)?;
                let found = depth(&node);
                let empty = matches!(&node, Node::List(items) if items.is_empty());
                if found != wanted && !empty {
                    return Err(Error::new(
                        ErrorKind::FeatureNotSupported,
                        format!(
                            "the array \"{t}\" has {found} dimension(s) and its type \
                             {wanted}; cast it to a type with {found} pairs of brackets"
                        ),
                    ));
                }
                Ok(node)
            })
            .transpose()
        })
        .collect::<std::result::Result<Vec<_>, Error>>()
        .map_err(super::external)?;
    let nodes: Vec<Option<&Node>> = parsed.iter().map(Option::as_ref).collect();
    build(&nodes, target)
}

/// `pg_array_in(text)` of one list type; see the module header.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgArrayIn {
    target: DataType,
    signature: Signature,
}

impl PgArrayIn {
    /// The text `operand` read as an array of `target` (a list type).
    pub fn call(operand: Expr, target: &DataType) -> Expr {
        let udf = ScalarUDF::from(Self {
            target: target.clone(),
            signature: Signature::any(1, Volatility::Immutable),
        });
        Arc::new(udf).call(vec![operand])
    }

    /// Whether the rule reads a text cast to `target` with this function.
    pub fn reads(target: &DataType) -> bool {
        matches!(target, DataType::List(_))
    }
}

impl ScalarUDFImpl for PgArrayIn {
    fn name(&self) -> &str {
        "pg_array_in"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.target.clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let target = &self.target;
        super::over_arrays(&args, |arrays| {
            let text = cast(&arrays[0], &DataType::Utf8)?;
            array_in(text.as_string::<i32>(), target)
        })
    }

    fn return_field_from_args(
        &self,
        _args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<FieldRef> {
        Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
            self.name(),
            self.target.clone(),
            true,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(node: &Node) -> Vec<Option<&str>> {
        match node {
            Node::List(items) => items
                .iter()
                .map(|i| match i {
                    Node::Element(v) => v.as_deref(),
                    Node::List(_) => Some("<list>"),
                })
                .collect(),
            Node::Element(_) => vec![],
        }
    }

    #[test]
    fn reads_postgres_array_text() {
        let node = parse(r#"{ a , "b c" , NULL, "NULL", \,x , b\ }"#).unwrap();
        assert_eq!(
            elements(&node),
            vec![
                Some("a"),
                Some("b c"),
                None,
                Some("NULL"),
                Some(",x"),
                Some("b ")
            ]
        );
        assert_eq!(elements(&parse("{}").unwrap()), Vec::<Option<&str>>::new());
        assert_eq!(depth(&parse("{{1,2},{3,4}}").unwrap()), 2);
        assert_eq!(
            elements(&parse("[1:2]={1,2}").unwrap()),
            vec![Some("1"), Some("2")]
        );
        assert!(parse("[1:3]={1,2}").is_err());
    }

    #[test]
    fn refuses_malformed_text() {
        for bad in [
            "{1,2",
            "a",
            "{1,}",
            "{{1,2},{3}}",
            "{1,{2}}",
            "{1} x",
            "{a\"b}",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
