//! PostgreSQL's `json` and `jsonb` on text: documents are stored as text (Delta has no JSON
//! type), and these functions read them as PostgreSQL does.
//!
//! - `x::json` checks the text is JSON (22P02 otherwise) and keeps it as written, as PostgreSQL's
//!   `json` does; `x::jsonb` checks it and writes it in jsonb's form (keys sorted, the last of
//!   duplicate keys kept, `", "` and `": "` between items, numbers as `numeric` prints them).
//! - `->` / `->>` (an object's key or an array's element, counted from the end when negative) and
//!   `#>` / `#>>` (a path), `json[b]_extract_path[_text]`: the value as JSON text exactly as it
//!   appears in the document, or as text (`->>`: a string unquoted, JSON `null` as SQL NULL).
//! - `json[b]_typeof`, `json[b]_array_length`.
//!
//! A value read with `->` is the document's own text of that value: PostgreSQL's `json`
//! behaviour, and its `jsonb` behaviour on documents written through `::jsonb`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::json_build::{Flavor, document_field, flavor_of};

use crate::error::ErrorKind;

/// A parsed JSON value; containers keep each member's text as it appears in the document.
#[derive(Debug)]
pub(super) enum Node<'a> {
    Null,
    Bool(bool),
    /// The number's text.
    Number(&'a str),
    /// The string, unescaped.
    Str(String),
    Array(Vec<Member<'a>>),
    /// Keys in document order, duplicates included.
    Object(Vec<(String, Member<'a>)>),
}

#[derive(Debug)]
pub(super) struct Member<'a> {
    pub(super) node: Node<'a>,
    pub(super) text: &'a str,
}

/// Parses a JSON document as PostgreSQL's `json` input does; `None` when it is not JSON.
fn parse(text: &str) -> Option<Member<'_>> {
    let mut p = Parser { s: text, i: 0 };
    p.ws();
    let member = p.value(0)?;
    p.ws();
    (p.i == text.len()).then_some(member)
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

/// PostgreSQL's limit on nesting is the stack; ours is explicit.
const MAX_DEPTH: usize = 1000;

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, word: &str) -> Option<()> {
        self.s[self.i..]
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    fn value(&mut self, depth: usize) -> Option<Member<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        let start = self.i;
        let node = match self.peek()? {
            b'n' => self.eat("null").map(|_| Node::Null)?,
            b't' => self.eat("true").map(|_| Node::Bool(true))?,
            b'f' => self.eat("false").map(|_| Node::Bool(false))?,
            b'"' => Node::Str(self.string()?),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b']' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Node::Array(items)
            }
            b'{' => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        if self.peek() != Some(b'"') {
                            return None;
                        }
                        let key = self.string()?;
                        self.ws();
                        if self.peek() != Some(b':') {
                            return None;
                        }
                        self.i += 1;
                        self.ws();
                        members.push((key, self.value(depth + 1)?));
                        self.ws();
                        match self.peek()? {
                            b',' => self.i += 1,
                            b'}' => {
                                self.i += 1;
                                break;
                            }
                            _ => return None,
                        }
                    }
                }
                Node::Object(members)
            }
            b'-' | b'0'..=b'9' => Node::Number(self.number()?),
            _ => return None,
        };
        Some(Member {
            node,
            text: &self.s[start..self.i],
        })
    }

    fn number(&mut self) -> Option<&'a str> {
        let start = self.i;
        let b = self.s.as_bytes();
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                while b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            let digits = self.i;
            while b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            if self.i == digits {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.i += 1;
            }
            let digits = self.i;
            while b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
            if self.i == digits {
                return None;
            }
        }
        Some(&self.s[start..self.i])
    }

    fn string(&mut self) -> Option<String> {
        self.i += 1; // the opening quote
        let mut out = String::new();
        loop {
            let rest = &self.s[self.i..];
            let c = rest.chars().next()?;
            self.i += c.len_utf8();
            match c {
                '"' => return Some(out),
                '\\' => {
                    let e = self.peek()?;
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let first = self.hex4()?;
                            let c = if (0xD800..0xDC00).contains(&first) {
                                self.eat("\\u")?;
                                let second = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&second) {
                                    return None;
                                }
                                char::from_u32(
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00),
                                )?
                            } else {
                                char::from_u32(first)?
                            };
                            out.push(c);
                        }
                        _ => return None,
                    }
                }
                c if (c as u32) < 0x20 => return None,
                c => out.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let hex = self.s.get(self.i..self.i + 4)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        self.i += 4;
        Some(v)
    }
}

/// 22P02 as PostgreSQL words it for a text that is not JSON.
fn not_json(text: &str) -> datafusion::error::DataFusionError {
    let shown: String = text.chars().take(60).collect();
    super::pg_error(
        ErrorKind::InvalidTextRepresentation,
        format!("invalid input syntax for type json: \"{shown}\""),
    )
}

pub(super) fn parse_or_error(text: &str) -> Result<Member<'_>> {
    parse(text).ok_or_else(|| not_json(text))
}

/// One step of a path: a key, an element, or (in `#>` paths) either, decided by the container.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(i64),
    KeyOrIndex(String),
}

fn step<'m, 'a>(member: &'m Member<'a>, step: &Step) -> Option<&'m Member<'a>> {
    match (&member.node, step) {
        (Node::Object(members), Step::Key(k) | Step::KeyOrIndex(k)) => members
            .iter()
            .rev()
            .find(|(key, _)| key == k)
            .map(|(_, m)| m),
        (Node::Array(items), Step::Index(i)) => element(items, *i),
        (Node::Array(items), Step::KeyOrIndex(k)) => element(items, k.trim().parse().ok()?),
        _ => None,
    }
}

fn element<'m, 'a>(items: &'m [Member<'a>], i: i64) -> Option<&'m Member<'a>> {
    let index = if i < 0 { items.len() as i64 + i } else { i };
    usize::try_from(index).ok().and_then(|i| items.get(i))
}

/// A value as `->>` gives it: strings unquoted, `null` as NULL, anything else its JSON text.
fn text_value(member: &Member<'_>) -> Option<String> {
    match &member.node {
        Node::Null => None,
        Node::Str(s) => Some(s.clone()),
        _ => Some(member.text.to_string()),
    }
}

/// What a [`JsonGet`] function is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonGetKind {
    /// `json -> key|index`.
    Arrow,
    /// `json ->> key|index`.
    ArrowText,
    /// `json_extract_path(json, VARIADIC path)`, also `#>`.
    Path,
    /// `json_extract_path_text(json, VARIADIC path)`, also `#>>`.
    PathText,
}

/// The JSON accessors (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonGet {
    kind: JsonGetKind,
    name: &'static str,
    signature: Signature,
}

impl JsonGet {
    /// The function `name` of `kind`.
    pub fn new(kind: JsonGetKind, name: &'static str) -> Self {
        Self {
            kind,
            name,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    fn as_text(&self) -> bool {
        matches!(self.kind, JsonGetKind::ArrowText | JsonGetKind::PathText)
    }
}

/// The name the dialect plans `->` as.
pub const ARROW: &str = "pg_json_arrow";
/// The name the dialect plans `->>` as.
pub const ARROW_TEXT: &str = "pg_json_arrow_text";

impl ScalarUDFImpl for JsonGet {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        Ok(match (self.kind, args) {
            (JsonGetKind::Arrow, [a, b]) => format!("{a} -> {b}"),
            (JsonGetKind::ArrowText, [a, b]) => format!("{a} ->> {b}"),
            _ => format!(
                "{}({})",
                self.name,
                args.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        if arg_types.len() < 2 && matches!(self.kind, JsonGetKind::Arrow | JsonGetKind::ArrowText) {
            return Err(super::pg_error(
                ErrorKind::UndefinedFunction,
                format!("{} takes a document and a key or index", self.name),
            ));
        }
        Ok(arg_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let index = i > 0
                    && matches!(self.kind, JsonGetKind::Arrow | JsonGetKind::ArrowText)
                    && t.is_integer();
                if index {
                    DataType::Int64
                } else if i == 0 && t.is_string() {
                    // The document as it is: a cast (a table's Utf8View column to Utf8) would
                    // drop its json / jsonb mark, and with it the result's type (`doc -> 'k'`
                    // of a jsonb column was json) and jsonb's rule for scalars.
                    t.clone()
                } else {
                    DataType::Utf8
                }
            })
            .collect())
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    /// `->` and `#>` give a document of the input's flavor (json for unmarked text).
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if self.as_text() {
            return Ok(Arc::new(Field::new(self.name, DataType::Utf8, true)));
        }
        let flavor = args
            .arg_fields
            .first()
            .and_then(|f| flavor_of(f))
            .unwrap_or(Flavor::Json);
        Ok(document_field(self.name, flavor))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrow = matches!(self.kind, JsonGetKind::Arrow | JsonGetKind::ArrowText);
        let as_text = self.as_text();
        // PostgreSQL's jsonb keeps a scalar as a one-element array: `'1'::jsonb -> 0` (or -1)
        // is the scalar; json's is NULL, as is `#>` into a scalar.
        let scalar_is_element =
            arrow && args.arg_fields.first().and_then(|f| flavor_of(f)) == Some(Flavor::Jsonb);
        super::over_arrays(&args, |arrays| {
            let docs = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let docs = docs.as_string::<i32>();
            let mut out = StringBuilder::new();
            'rows: for row in 0..docs.len() {
                if docs.is_null(row) {
                    out.append_null();
                    continue;
                }
                let mut steps = Vec::with_capacity(arrays.len() - 1);
                for a in &arrays[1..] {
                    if a.is_null(row) {
                        out.append_null();
                        continue 'rows;
                    }
                    steps.push(match a.data_type() {
                        DataType::Int64 => Step::Index(
                            a.as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                                .value(row),
                        ),
                        _ => {
                            let key = a.as_string::<i32>().value(row).to_string();
                            if arrow {
                                Step::Key(key)
                            } else {
                                Step::KeyOrIndex(key)
                            }
                        }
                    });
                }
                let doc = parse_or_error(docs.value(row))?;
                let mut at = Some(&doc);
                for s in &steps {
                    at = at.and_then(|m| step(m, s));
                }
                if scalar_is_element
                    && let [Step::Index(0 | -1)] = steps.as_slice()
                    && !matches!(doc.node, Node::Array(_) | Node::Object(_))
                {
                    at = Some(&doc);
                }
                match at {
                    Some(m) if as_text => out.append_option(text_value(m)),
                    Some(m) => out.append_value(m.text),
                    None => out.append_null(),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// What a [`JsonText`] function does to a whole document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JsonTextKind {
    /// `x::json`: checked, kept as written.
    CastJson,
    /// `x::jsonb`: checked, written in jsonb's form.
    CastJsonb,
    /// `json_typeof` / `jsonb_typeof`.
    TypeOf,
    /// `json_array_length` / `jsonb_array_length`.
    ArrayLength,
}

/// One-argument functions of a document (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonText {
    kind: JsonTextKind,
    name: &'static str,
    signature: Signature,
}

/// The name the dialect plans `CAST(x AS json)` as.
pub const CAST_JSON: &str = "pg_json";
/// The name the dialect plans `CAST(x AS jsonb)` as.
pub const CAST_JSONB: &str = "pg_jsonb";

impl JsonText {
    /// The function `name` of `kind`.
    pub fn new(kind: JsonTextKind, name: &'static str) -> Self {
        Self {
            kind,
            name,
            signature: Signature::string(1, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for JsonText {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        Ok(match self.kind {
            JsonTextKind::CastJson => format!("CAST({} AS json)", args[0]),
            JsonTextKind::CastJsonb => format!("CAST({} AS jsonb)", args[0]),
            _ => format!("{}({})", self.name, args[0]),
        })
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            JsonTextKind::ArrayLength => DataType::Int32,
            _ => DataType::Utf8,
        })
    }

    /// The casts mark their result as a document (see `json_build`).
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let nullable = args.arg_fields.first().is_none_or(|f| f.is_nullable());
        Ok(match self.kind {
            JsonTextKind::CastJson => document_field(self.name, Flavor::Json),
            JsonTextKind::CastJsonb => document_field(self.name, Flavor::Jsonb),
            JsonTextKind::ArrayLength => Arc::new(Field::new(self.name, DataType::Int32, nullable)),
            JsonTextKind::TypeOf => Arc::new(Field::new(self.name, DataType::Utf8, nullable)),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let kind = self.kind;
        let name = self.name;
        super::over_arrays(&args, |arrays| {
            let input = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let docs = input.as_string::<i32>();
            if kind == JsonTextKind::ArrayLength {
                let mut out = datafusion::arrow::array::Int32Builder::new();
                for row in 0..docs.len() {
                    if docs.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    match parse_or_error(docs.value(row))?.node {
                        Node::Array(items) => out.append_value(items.len() as i32),
                        Node::Object(_) => {
                            return Err(super::pg_error(
                                ErrorKind::InvalidParameterValue,
                                format!("cannot get array length of a non-array ({name})"),
                            ));
                        }
                        _ => {
                            return Err(super::pg_error(
                                ErrorKind::InvalidParameterValue,
                                "cannot get array length of a scalar",
                            ));
                        }
                    }
                }
                return Ok(Arc::new(out.finish()) as ArrayRef);
            }
            let mut out = StringBuilder::new();
            for row in 0..docs.len() {
                if docs.is_null(row) {
                    out.append_null();
                    continue;
                }
                let text = docs.value(row);
                let doc = parse_or_error(text)?;
                match kind {
                    JsonTextKind::CastJson => out.append_value(text),
                    JsonTextKind::CastJsonb => {
                        let mut written = String::with_capacity(text.len());
                        write_jsonb(&doc, &mut written)?;
                        out.append_value(written);
                    }
                    JsonTextKind::TypeOf => out.append_value(match doc.node {
                        Node::Null => "null",
                        Node::Bool(_) => "boolean",
                        Node::Number(_) => "number",
                        Node::Str(_) => "string",
                        Node::Array(_) => "array",
                        Node::Object(_) => "object",
                    }),
                    JsonTextKind::ArrayLength => unreachable!("handled above"),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// The cast a value takes into a column declared json or jsonb (the same as `x::json[b]`).
pub fn json_cast_udf(flavor: Flavor) -> ScalarUDF {
    match flavor {
        Flavor::Json => ScalarUDF::from(JsonText::new(JsonTextKind::CastJson, CAST_JSON)),
        Flavor::Jsonb => ScalarUDF::from(JsonText::new(JsonTextKind::CastJsonb, CAST_JSONB)),
    }
}

/// A JSON text as PostgreSQL prints it as jsonb (`{"a": 1, "b": [1, 2]}`: keys by length, then
/// bytes; the last of duplicate keys). Why: nested columns sent as jsonb must read as the same
/// text a jsonb column of PostgreSQL gives.
pub fn jsonb_text(json: &str) -> Result<String> {
    let doc = parse_or_error(json)?;
    let mut out = String::with_capacity(json.len() + json.len() / 4);
    write_jsonb(&doc, &mut out)?;
    Ok(out)
}

/// The order of an object's keys in jsonb: by length, then by bytes.
pub(super) fn jsonb_key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Writes `member` as PostgreSQL prints a jsonb value.
pub(super) fn write_jsonb(member: &Member<'_>, out: &mut String) -> Result<()> {
    match &member.node {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Number(n) => out.push_str(&numeric_text(n)?),
        Node::Str(s) => write_string(s, out)?,
        Node::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_jsonb(item, out)?;
            }
            out.push(']');
        }
        Node::Object(members) => {
            // jsonb keeps the last of duplicate keys and orders keys by length, then bytes.
            let mut kept: Vec<&(String, Member<'_>)> = Vec::with_capacity(members.len());
            for (i, m) in members.iter().enumerate() {
                if !members[i + 1..].iter().any(|(k, _)| k == &m.0) {
                    kept.push(m);
                }
            }
            kept.sort_by(|a, b| jsonb_key_order(&a.0, &b.0));
            out.push('{');
            for (i, (key, value)) in kept.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_string(key, out)?;
                out.push_str(": ");
                write_jsonb(value, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

pub(super) fn write_string(s: &str, out: &mut String) -> Result<()> {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => {
                return Err(super::pg_error(
                    ErrorKind::InvalidTextRepresentation,
                    "unsupported Unicode escape sequence: \\u0000 cannot be converted to text",
                ));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

/// A JSON number as PostgreSQL's `numeric` prints it (jsonb stores numbers as numeric): the
/// exponent expanded, the scale kept, no negative zero.
pub(super) fn numeric_text(text: &str) -> Result<String> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    // numeric's own bounds: 131072 digits before the point, 16383 after.
    let overflow = || {
        super::pg_error(
            ErrorKind::NumericValueOutOfRange,
            "value overflows numeric format",
        )
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(i) => (
            &unsigned[..i],
            unsigned[i + 1..]
                .parse::<i64>()
                .ok()
                .filter(|e| e.abs() <= 200_000)
                .ok_or_else(overflow)?,
        ),
        None => (unsigned, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int_part}{frac_part}");
    // Where the decimal point falls in `digits`, and the digits after it (numeric's scale).
    let point = int_part.len() as i64 + exponent;
    let scale = (frac_part.len() as i64 - exponent).max(0) as usize;
    if point > 131_072 || scale > 16_383 {
        return Err(overflow());
    }
    let (int_digits, frac_digits) = if point <= 0 {
        (
            String::new(),
            format!("{}{digits}", "0".repeat((-point) as usize)),
        )
    } else if point as usize >= digits.len() {
        (
            format!("{digits}{}", "0".repeat(point as usize - digits.len())),
            String::new(),
        )
    } else {
        (
            digits[..point as usize].to_string(),
            digits[point as usize..].to_string(),
        )
    };
    let int_digits = int_digits.trim_start_matches('0');
    let int_digits = if int_digits.is_empty() {
        "0"
    } else {
        int_digits
    };
    let mut frac: String = frac_digits.chars().take(scale).collect();
    while frac.len() < scale {
        frac.push('0');
    }
    let zero = int_digits == "0" && frac.bytes().all(|b| b == b'0');
    let sign = if negative && !zero { "-" } else { "" };
    Ok(if scale == 0 {
        format!("{sign}{int_digits}")
    } else {
        format!("{sign}{int_digits}.{frac}")
    })
}

/// Every function of this module, for registration.
pub fn functions() -> Vec<ScalarUDF> {
    let mut all = vec![
        ScalarUDF::from(JsonGet::new(JsonGetKind::Arrow, ARROW)),
        ScalarUDF::from(JsonGet::new(JsonGetKind::ArrowText, ARROW_TEXT)),
        ScalarUDF::from(JsonText::new(JsonTextKind::CastJson, CAST_JSON)),
        ScalarUDF::from(JsonText::new(JsonTextKind::CastJsonb, CAST_JSONB)),
    ];
    for (path, text) in [
        ("json_extract_path", "json_extract_path_text"),
        ("jsonb_extract_path", "jsonb_extract_path_text"),
    ] {
        all.push(ScalarUDF::from(JsonGet::new(JsonGetKind::Path, path)));
        all.push(ScalarUDF::from(JsonGet::new(JsonGetKind::PathText, text)));
    }
    for (kind, names) in [
        (JsonTextKind::TypeOf, ["json_typeof", "jsonb_typeof"]),
        (
            JsonTextKind::ArrayLength,
            ["json_array_length", "jsonb_array_length"],
        ),
    ] {
        for name in names {
            all.push(ScalarUDF::from(JsonText::new(kind, name)));
        }
    }
    all
}

/// `doc -> k`, `doc ->> k`, `doc #> path`, `doc #>> path` on a text `doc`, as this module's
/// functions. A `#>` path must be a constant text array (`'{a,0}'`).
pub fn plan_operator(
    op: &datafusion::sql::sqlparser::ast::BinaryOperator,
    left: Expr,
    right: Expr,
    right_type: &DataType,
) -> Result<Expr> {
    use datafusion::sql::sqlparser::ast::BinaryOperator as Op;
    let call = |name: &'static str, kind: JsonGetKind, args: Vec<Expr>| {
        Arc::new(ScalarUDF::from(JsonGet::new(kind, name))).call(args)
    };
    match op {
        Op::Arrow => Ok(call(ARROW, JsonGetKind::Arrow, vec![left, right])),
        Op::LongArrow => Ok(call(ARROW_TEXT, JsonGetKind::ArrowText, vec![left, right])),
        Op::HashArrow | Op::HashLongArrow => {
            let path = match &right {
                Expr::Literal(
                    datafusion::common::ScalarValue::Utf8(Some(text))
                    | datafusion::common::ScalarValue::Utf8View(Some(text))
                    | datafusion::common::ScalarValue::LargeUtf8(Some(text)),
                    _,
                ) => path_elements(text).ok_or_else(|| {
                    super::pg_error(
                        ErrorKind::InvalidTextRepresentation,
                        format!("malformed array literal: \"{text}\""),
                    )
                })?,
                _ => {
                    return Err(super::pg_error(
                        ErrorKind::FeatureNotSupported,
                        format!(
                            "{op} takes a constant text array path here ('{{a,0}}'), not an expression of type {right_type}"
                        ),
                    ));
                }
            };
            let mut args = vec![left];
            args.extend(
                path.into_iter()
                    .map(|p| Expr::Literal(datafusion::common::ScalarValue::Utf8(Some(p)), None)),
            );
            Ok(if matches!(op, Op::HashArrow) {
                call("json_extract_path", JsonGetKind::Path, args)
            } else {
                call("json_extract_path_text", JsonGetKind::PathText, args)
            })
        }
        _ => unreachable!("only the JSON operators are planned here"),
    }
}

/// The elements of a PostgreSQL text-array literal (`'{a,b,"c d"}'`), as `#>` takes its path;
/// None when the text is not one.
pub fn path_elements(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('{')?.strip_suffix('}')?;
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    let mut out = Vec::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut item = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => item.push(chars.next()?),
                    c => item.push(c),
                }
            }
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '"' || c == '{' || c == '}' {
                    return None;
                }
                item.push(c);
                chars.next();
            }
            item = item.trim_end().to_string();
        }
        out.push(item);
        match chars.next() {
            None => return Some(out),
            Some(',') => {}
            Some(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_keep_their_own_text() {
        let doc = parse(r#" {"a": {"b":  1.50}, "c": [1, "x", null]} "#).unwrap();
        let a = step(&doc, &Step::Key("a".into())).unwrap();
        assert_eq!(a.text, r#"{"b":  1.50}"#);
        let c = step(&doc, &Step::Key("c".into())).unwrap();
        assert_eq!(step(c, &Step::Index(-2)).unwrap().text, r#""x""#);
        assert!(step(c, &Step::Index(3)).is_none());
        assert!(parse("{\"a\":}").is_none());
        assert!(parse("[1,]").is_none());
        assert!(parse("01").is_none());
    }

    #[test]
    fn jsonb_form_sorts_keys_and_keeps_the_last_duplicate() {
        let doc = parse(r#"{"bb":1,"a":[1e2, -0, 1.50],"bb":"x\u00e9"}"#).unwrap();
        let mut out = String::new();
        write_jsonb(&doc, &mut out).unwrap();
        assert_eq!(out, r#"{"a": [100, 0, 1.50], "bb": "xé"}"#);
        assert_eq!(numeric_text("1.50e1").unwrap(), "15.0");
        assert_eq!(numeric_text("-1.5E-3").unwrap(), "-0.0015");
        assert_eq!(numeric_text("-0.0").unwrap(), "0.0");
        assert_eq!(numeric_text("12e2").unwrap(), "1200");
        assert!(numeric_text("1e999999999").is_err());
        assert!(numeric_text("1e99999999999999999999").is_err());
        assert!(numeric_text("1e-20000").is_err());
        assert!(parse(r#""\u+041""#).is_none());
    }

    #[test]
    fn array_literals_become_paths() {
        assert_eq!(
            path_elements(r#"{a, "b c",1}"#).unwrap(),
            vec!["a", "b c", "1"]
        );
        assert_eq!(path_elements("{}").unwrap(), Vec::<String>::new());
        assert!(path_elements("a,b").is_none());
    }
}
