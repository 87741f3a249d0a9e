//! The pieces of a JSON document as rows, and rows as one JSON object, as PostgreSQL gives them:
//! `json[b]_array_elements[_text]`, `json[b]_object_keys` and the values of `json[b]_each[_text]`
//! (set-returning: the dialect plans
//! `f(doc)` in a select list as `unnest(pg_f(doc))`, these functions giving the list, and
//! `..._elements` as `CAST(unnest(...) AS json[b])`, so its rows are documents), and
//! `json[b]_object_agg(k, v)` (the dialect plans it as this module's final step over
//! `array_agg(json_build_array(k::text, v))`, so its ORDER BY and FILTER are array_agg's).
//!
//! `json` keeps each element's text as written (`{"b" :  2}`); `jsonb` writes it in jsonb's
//! form (`{"b": 2}`). `json_object_agg` writes `{ "k" : v, ... }` with every pair in row order;
//! `jsonb_object_agg` keeps the last of duplicate keys and sorts them as jsonb does.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::json::{Member, Node, parse_or_error, write_jsonb, write_string};
use super::json_build::{Flavor, document_field};
use crate::error::ErrorKind;

/// What a [`JsonItems`] function gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Items {
    /// An array's elements as documents.
    Elements,
    /// An array's elements as text (strings unquoted, `null` as NULL).
    ElementsText,
    /// An object's keys (jsonb: in jsonb's order, each once).
    Keys,
    /// An object's values as documents, in the order of [`Items::Keys`] (jsonb: the last of
    /// duplicate keys), for `json[b]_each`.
    Values,
    /// An object's values as text (strings unquoted, `null` as NULL), for `json[b]_each_text`.
    ValuesText,
    /// `json[b]_object_agg`'s final step: a list of `[key, value]` arrays as one object.
    ObjectFromPairs,
}

/// The functions of this module (see its header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonItems {
    items: Items,
    flavor: Flavor,
    /// The name PostgreSQL knows the function by, for messages.
    public: &'static str,
    name: &'static str,
    signature: Signature,
}

impl JsonItems {
    fn new(items: Items, flavor: Flavor, public: &'static str, name: &'static str) -> Self {
        let signature = match items {
            Items::ObjectFromPairs => Signature::any(1, Volatility::Immutable),
            _ => Signature::string(1, Volatility::Immutable),
        };
        Self {
            items,
            flavor,
            public,
            name,
            signature,
        }
    }

    /// The list's element field: text (a list's element field carries no document mark
    /// through DataFusion's checks; the dialect marks `..._elements`' rows with the cast).
    fn element_field(&self) -> FieldRef {
        Arc::new(Field::new("item", DataType::Utf8, true))
    }
}

impl ScalarUDFImpl for JsonItems {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(match self.items {
            Items::ObjectFromPairs => DataType::Utf8,
            _ => DataType::List(self.element_field()),
        })
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(match self.items {
            Items::ObjectFromPairs => document_field(self.public, self.flavor),
            _ => Arc::new(Field::new(
                self.public,
                DataType::List(self.element_field()),
                true,
            )),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| match self.items {
            Items::ObjectFromPairs => self.objects(&arrays[0]),
            _ => self.lists(&arrays[0]),
        })
    }
}

impl JsonItems {
    /// One list per document.
    fn lists(&self, input: &ArrayRef) -> Result<ArrayRef> {
        let input = datafusion::arrow::compute::cast(input, &DataType::Utf8)?;
        let docs = input.as_string::<i32>();
        let mut out = ListBuilder::new(StringBuilder::new()).with_field(self.element_field());
        for row in 0..docs.len() {
            if docs.is_null(row) {
                out.append_null();
                continue;
            }
            let doc = parse_or_error(docs.value(row))?;
            match (&doc.node, self.items) {
                (Node::Array(members), Items::Elements | Items::ElementsText) => {
                    self.append_elements(out.values(), members.iter())?;
                }
                (Node::Object(members), Items::Values | Items::ValuesText) => {
                    let members = self.object_members(members);
                    self.append_elements(out.values(), members.iter().map(|(_, m)| m))?;
                }
                (Node::Object(members), Items::Keys) => {
                    for (key, _) in self.object_members(members) {
                        out.values().append_value(key);
                    }
                }
                (node, _) => return Err(self.wrong_kind(node)),
            }
            out.append(true);
        }
        Ok(Arc::new(out.finish()))
    }

    /// An object's members in the order this function gives them: as written for json; for
    /// jsonb in jsonb's key order, each key once with its last value.
    fn object_members<'a, 'b>(
        &self,
        members: &'a [(String, Member<'b>)],
    ) -> Vec<&'a (String, Member<'b>)> {
        let mut ordered: Vec<&(String, Member<'_>)> = members.iter().collect();
        if self.flavor == Flavor::Jsonb {
            // Stable: duplicates stay in written order, and the last one is kept.
            ordered.sort_by(|a, b| super::json::jsonb_key_order(&a.0, &b.0));
            let mut kept: Vec<&(String, Member<'_>)> = Vec::new();
            for member in ordered {
                match kept.last_mut() {
                    Some(last) if last.0 == member.0 => *last = member,
                    _ => kept.push(member),
                }
            }
            ordered = kept;
        }
        ordered
    }

    /// Appends each of `members` as this function gives an element (see
    /// [`JsonItems::element_text`]).
    fn append_elements<'a, 'b: 'a>(
        &self,
        out: &mut StringBuilder,
        members: impl Iterator<Item = &'a Member<'b>>,
    ) -> Result<()> {
        for member in members {
            match self.element_text(member)? {
                Some(text) => out.append_value(text),
                None => out.append_null(),
            }
        }
        Ok(())
    }

    /// An element's text as this function gives it; None for SQL NULL.
    fn element_text(&self, member: &Member<'_>) -> Result<Option<String>> {
        if matches!(self.items, Items::ElementsText | Items::ValuesText) {
            match &member.node {
                Node::Null => return Ok(None),
                Node::Str(s) => return Ok(Some(s.clone())),
                _ => {}
            }
        }
        Ok(Some(match self.flavor {
            Flavor::Json => member.text.to_string(),
            Flavor::Jsonb => {
                let mut text = String::with_capacity(member.text.len());
                write_jsonb(member, &mut text)?;
                text
            }
        }))
    }

    /// PostgreSQL's error for a document of the wrong kind (22023).
    fn wrong_kind(&self, node: &Node<'_>) -> datafusion::error::DataFusionError {
        let what = match node {
            Node::Array(_) => "an array",
            Node::Object(_) => "an object",
            _ => "a scalar",
        };
        let message = match self.items {
            Items::Keys => format!("cannot call {} on {what}", self.public),
            Items::Values | Items::ValuesText => match self.flavor {
                Flavor::Jsonb => format!("cannot call {} on a non-object", self.public),
                Flavor::Json => format!("cannot deconstruct {what} as an object"),
            },
            _ => format!("cannot extract elements from {what}"),
        };
        super::pg_error(ErrorKind::InvalidParameterValue, message)
    }

    /// One object per list of `[key, value]` pair documents; NULL for a NULL list (no rows).
    fn objects(&self, input: &ArrayRef) -> Result<ArrayRef> {
        let mut out = StringBuilder::new();
        for row in 0..input.len() {
            if input.is_null(row) {
                out.append_null();
                continue;
            }
            let Some((pairs, _)) = super::json_build::list_row(input, row) else {
                return Err(datafusion::error::DataFusionError::Internal(format!(
                    "{}: a list expected, got {}",
                    self.name,
                    input.data_type()
                )));
            };
            let pairs = datafusion::arrow::compute::cast(&pairs, &DataType::Utf8)?;
            let pairs = pairs.as_string::<i32>();
            let mut text = String::from("{");
            let mut first = true;
            for i in 0..pairs.len() {
                if pairs.is_null(i) {
                    continue;
                }
                let pair = parse_or_error(pairs.value(i))?;
                let Node::Array(kv) = &pair.node else {
                    continue;
                };
                let [key, value] = kv.as_slice() else {
                    continue;
                };
                let Node::Str(key) = &key.node else {
                    return Err(super::pg_error(
                        ErrorKind::InvalidParameterValue,
                        "field name must not be null",
                    ));
                };
                text.push_str(if first { " " } else { ", " });
                first = false;
                write_string(key, &mut text)?;
                text.push_str(" : ");
                text.push_str(value.text);
            }
            text.push_str(if first { "}" } else { " }" });
            match self.flavor {
                Flavor::Json => out.append_value(&text),
                Flavor::Jsonb => out.append_value(super::json::jsonb_text(&text)?),
            }
        }
        Ok(Arc::new(out.finish()))
    }
}

/// The set-returning functions the dialect plans as `unnest(pg_<name>(doc))`.
pub const SET_RETURNING: &[&str] = &[
    "json_array_elements",
    "jsonb_array_elements",
    "json_array_elements_text",
    "jsonb_array_elements_text",
    "json_object_keys",
    "jsonb_object_keys",
];

/// The name the dialect plans `json_object_agg`'s final step as.
pub const OBJECT_AGG: &str = "pg_json_object_agg";
/// The name the dialect plans `jsonb_object_agg`'s final step as.
pub const OBJECTB_AGG: &str = "pg_jsonb_object_agg";

/// Every function of this module, for registration.
pub fn functions() -> Vec<ScalarUDF> {
    let all = [
        (
            Items::Elements,
            Flavor::Json,
            "json_array_elements",
            "pg_json_array_elements",
        ),
        (
            Items::Elements,
            Flavor::Jsonb,
            "jsonb_array_elements",
            "pg_jsonb_array_elements",
        ),
        (
            Items::ElementsText,
            Flavor::Json,
            "json_array_elements_text",
            "pg_json_array_elements_text",
        ),
        (
            Items::ElementsText,
            Flavor::Jsonb,
            "jsonb_array_elements_text",
            "pg_jsonb_array_elements_text",
        ),
        (
            Items::Keys,
            Flavor::Json,
            "json_object_keys",
            "pg_json_object_keys",
        ),
        (
            Items::Keys,
            Flavor::Jsonb,
            "jsonb_object_keys",
            "pg_jsonb_object_keys",
        ),
        (
            Items::Values,
            Flavor::Json,
            "json_each",
            "pg_json_each_values",
        ),
        (
            Items::Values,
            Flavor::Jsonb,
            "jsonb_each",
            "pg_jsonb_each_values",
        ),
        (
            Items::ValuesText,
            Flavor::Json,
            "json_each_text",
            "pg_json_each_text_values",
        ),
        (
            Items::ValuesText,
            Flavor::Jsonb,
            "jsonb_each_text",
            "pg_jsonb_each_text_values",
        ),
        (
            Items::ObjectFromPairs,
            Flavor::Json,
            "json_object_agg",
            OBJECT_AGG,
        ),
        (
            Items::ObjectFromPairs,
            Flavor::Jsonb,
            "jsonb_object_agg",
            OBJECTB_AGG,
        ),
    ];
    all.into_iter()
        .map(|(items, flavor, public, name)| {
            ScalarUDF::from(JsonItems::new(items, flavor, public, name))
        })
        .collect()
}
