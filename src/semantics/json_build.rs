//! JSON built from SQL values as PostgreSQL 15 builds it: `to_json` / `to_jsonb`,
//! `json[b]_build_object`, `json[b]_build_array`, and `json_agg` / `jsonb_agg`.
//!
//! The dialect plans `json_agg(x [ORDER BY ...]) [FILTER (...)]` as
//! `pg_json_list(array_agg(pg_json_element(x) [ORDER BY ...]) [FILTER (...)])`, so ordering,
//! FILTER are those of DataFusion's own `array_agg`; `json_agg(DISTINCT x ...)` as
//! `pg_json_list_values(array_agg(DISTINCT x ...))` (DataFusion orders a DISTINCT aggregate only
//! by its argument, as PostgreSQL does). The dialect refuses DISTINCT of a document expression,
//! whose mark a list does not keep.
//!
//! Text is a JSON string unless its expression is a document: the casts `::json` / `::jsonb`,
//! `->` / `#>` and these builders mark their results (field metadata [`JSON_TYPE_KEY`]), and a
//! marked value is embedded as the document it is, as PostgreSQL embeds a `json` value. A column
//! declared json is stored (and described to clients) as text: `doc::json` makes it a document.
//!
//! Layout follows PostgreSQL's: `json_build_object` writes `{"a" : 1, "b" : 2}`, `to_json` of an
//! array or row `[1,2]` / `{"a":1}`, `json_agg` `[1, 2]` with `\n ` before each array or row
//! after the first; the jsonb forms are jsonb's normal form (see `json::write_jsonb`).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::json::{parse_or_error, write_jsonb, write_string};
use crate::error::ErrorKind;

/// Field metadata that marks a text expression as a JSON document; its value is `json` or
/// `jsonb`.
pub const JSON_TYPE_KEY: &str = "deltagres.json";

/// Which of PostgreSQL's two JSON types a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// `json`: kept as written.
    Json,
    /// `jsonb`: written in jsonb's normal form.
    Jsonb,
}

impl Flavor {
    /// The PostgreSQL type name (`json`, `jsonb`), also the value a document field is marked
    /// with.
    pub fn tag(self) -> &'static str {
        match self {
            Flavor::Json => "json",
            Flavor::Jsonb => "jsonb",
        }
    }
}

/// The flavor a field is marked with, if it is a document.
pub fn flavor_of(field: &Field) -> Option<Flavor> {
    match field.metadata().get(JSON_TYPE_KEY).map(String::as_str) {
        Some("json") => Some(Flavor::Json),
        Some("jsonb") => Some(Flavor::Jsonb),
        _ => None,
    }
}

/// A nullable text field named `name` marked as a `flavor` document.
pub fn document_field(name: &str, flavor: Flavor) -> FieldRef {
    Arc::new(
        Field::new(name, DataType::Utf8, true).with_metadata(HashMap::from([(
            JSON_TYPE_KEY.to_string(),
            flavor.tag().to_string(),
        )])),
    )
}

/// What a [`JsonBuild`] function builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Build {
    /// `to_json(x)`.
    Value,
    /// `json_build_object(k1, v1, ...)`.
    Object,
    /// `json_build_array(v1, ...)`.
    Array,
    /// One element of `json_agg`: its JSON text behind a one-byte tag saying whether it is an
    /// array or row (PostgreSQL puts a line break before those).
    Element,
    /// `json_agg`'s final step: the tagged elements of a list as one array.
    List,
    /// `json_agg(DISTINCT x)`'s final step: a list of the values themselves as one array.
    ListValues,
}

/// The JSON builders (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JsonBuild {
    build: Build,
    flavor: Flavor,
    name: &'static str,
    signature: Signature,
}

/// The name the dialect plans `json_agg`'s per-row step as.
pub const AGG_ELEMENT: &str = "pg_json_element";
/// The name the dialect plans `json_agg`'s final step as.
pub const AGG_LIST: &str = "pg_json_list";
/// `jsonb_agg`'s per-row step.
pub const AGGB_ELEMENT: &str = "pg_jsonb_element";
/// `jsonb_agg`'s final step.
pub const AGGB_LIST: &str = "pg_jsonb_list";

const STRUCTURED: char = 's';
const PLAIN: char = 'v';

impl JsonBuild {
    fn new(build: Build, flavor: Flavor, name: &'static str) -> Self {
        let signature = match build {
            Build::Value | Build::Element | Build::List | Build::ListValues => {
                Signature::any(1, Volatility::Stable)
            }
            // `json_build_array()` / `json_build_object()` are `[]` / `{}`.
            Build::Object | Build::Array => Signature::one_of(
                vec![
                    datafusion::logical_expr::TypeSignature::Nullary,
                    datafusion::logical_expr::TypeSignature::VariadicAny,
                ],
                Volatility::Stable,
            ),
        };
        Self {
            build,
            flavor,
            name,
            signature,
        }
    }
}

impl ScalarUDFImpl for JsonBuild {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("return_field_from_args is used instead")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        if self.build == Build::Object && !args.arg_fields.len().is_multiple_of(2) {
            return Err(super::pg_error(
                ErrorKind::InvalidParameterValue,
                "argument list must have even number of elements",
            ));
        }
        if self.build == Build::Element {
            return Ok(Arc::new(Field::new(self.name, DataType::Utf8, true)));
        }
        Ok(document_field(self.name, self.flavor))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let zone = session_zone(&args);
        let fields = args.arg_fields.clone();
        super::over_arrays(&args, |arrays| {
            let rows = arrays.first().map_or(1, |a| a.len());
            let mut out = StringBuilder::new();
            let mut text = String::new();
            for row in 0..rows {
                text.clear();
                let writer = ValueWriter { zone: &zone };
                match self.build {
                    // `to_json(NULL)` is NULL (the function is strict), not the document `null`.
                    Build::Value if super::text_out::is_null_at(&arrays[0], row) => {
                        out.append_null();
                        continue;
                    }
                    Build::Value => writer.value(&arrays[0], &fields[0], row, &mut text)?,
                    Build::Element => {
                        text.push(if structured(&arrays[0], row) {
                            STRUCTURED
                        } else {
                            PLAIN
                        });
                        writer.value(&arrays[0], &fields[0], row, &mut text)?;
                    }
                    Build::Object => {
                        text.push('{');
                        for (i, pair) in arrays.chunks(2).enumerate() {
                            if i > 0 {
                                text.push_str(", ");
                            }
                            if pair[0].is_null(row) {
                                return Err(super::pg_error(
                                    ErrorKind::InvalidParameterValue,
                                    format!(
                                        "null value not allowed for object key (argument {})",
                                        2 * i + 1
                                    ),
                                ));
                            }
                            let key = array_value_to_string(&pair[0], row)?;
                            write_string(&key, &mut text)?;
                            text.push_str(" : ");
                            writer.value(&pair[1], &fields[2 * i + 1], row, &mut text)?;
                        }
                        text.push('}');
                    }
                    Build::Array => {
                        text.push('[');
                        for (i, array) in arrays.iter().enumerate() {
                            if i > 0 {
                                text.push_str(", ");
                            }
                            writer.value(array, &fields[i], row, &mut text)?;
                        }
                        text.push(']');
                    }
                    Build::List => {
                        if arrays[0].is_null(row) {
                            out.append_null();
                            continue;
                        }
                        list_of_elements(&arrays[0], row, &mut text)?;
                    }
                    Build::ListValues => {
                        if arrays[0].is_null(row) {
                            out.append_null();
                            continue;
                        }
                        let (items, item_field) = list_items(&arrays[0], row)?;
                        text.push('[');
                        for i in 0..items.len() {
                            if i > 0 {
                                text.push_str(", ");
                                if structured(&items, i) {
                                    text.push_str("\n ");
                                }
                            }
                            writer.value(&items, &item_field, i, &mut text)?;
                        }
                        text.push(']');
                    }
                }
                if self.flavor == Flavor::Jsonb && self.build != Build::Element {
                    let mut normal = String::with_capacity(text.len());
                    write_jsonb(&parse_or_error(&text)?, &mut normal)?;
                    out.append_value(normal);
                } else {
                    out.append_value(&text);
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// Whether a value is an array or row, before which `json_agg` breaks the line.
fn structured(array: &ArrayRef, row: usize) -> bool {
    matches!(
        array.data_type(),
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(..)
            | DataType::Struct(_)
    ) && !array.is_null(row)
}

/// The items of row `row` of a list (or large list), with their field; None when `list` is no
/// list.
pub(super) fn list_row(list: &ArrayRef, row: usize) -> Option<(ArrayRef, FieldRef)> {
    match list.data_type() {
        DataType::List(f) => Some((list.as_list::<i32>().value(row), f.clone())),
        DataType::LargeList(f) => Some((list.as_list::<i64>().value(row), f.clone())),
        _ => None,
    }
}

/// The items of row `row` of a list, with their field.
fn list_items(list: &ArrayRef, row: usize) -> Result<(ArrayRef, FieldRef)> {
    list_row(list, row).map_or_else(
        || datafusion::common::internal_err!("{AGG_LIST} takes a list, not {}", list.data_type()),
        Ok,
    )
}

/// `json_agg`'s array from a list of tagged element texts.
fn list_of_elements(list: &ArrayRef, row: usize, text: &mut String) -> Result<()> {
    let (items, _) = list_items(list, row)?;
    let items = datafusion::arrow::compute::cast(&items, &DataType::Utf8)?;
    let items = items.as_string::<i32>();
    text.push('[');
    for i in 0..items.len() {
        let tagged = if items.is_null(i) {
            "vnull"
        } else {
            items.value(i)
        };
        let (tag, json) = tagged.split_at(1);
        if i > 0 {
            text.push_str(", ");
            if tag.starts_with(STRUCTURED) {
                text.push_str("\n ");
            }
        }
        text.push_str(json);
    }
    text.push(']');
    Ok(())
}

/// The session's time zone, in which PostgreSQL writes a timestamptz in JSON.
fn session_zone(args: &ScalarFunctionArgs) -> Option<datafusion::arrow::array::timezone::Tz> {
    args.config_options
        .execution
        .time_zone
        .as_deref()
        .and_then(|z| z.parse().ok())
}

/// Writes one SQL value as PostgreSQL's `to_json` does.
struct ValueWriter<'a> {
    zone: &'a Option<datafusion::arrow::array::timezone::Tz>,
}

impl ValueWriter<'_> {
    fn value(&self, array: &ArrayRef, field: &Field, row: usize, out: &mut String) -> Result<()> {
        if array.is_null(row) {
            out.push_str("null");
            return Ok(());
        }
        match array.data_type() {
            DataType::Null => out.push_str("null"),
            DataType::Boolean => out.push_str(if array.as_boolean().value(row) {
                "true"
            } else {
                "false"
            }),
            t if t.is_integer()
                || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)) =>
            {
                out.push_str(&array_value_to_string(array, row)?)
            }
            DataType::Float16 | DataType::Float32 | DataType::Float64 => {
                let as_f64 =
                    datafusion::arrow::compute::cast(&array.slice(row, 1), &DataType::Float64)?;
                let v = as_f64
                    .as_primitive::<datafusion::arrow::datatypes::Float64Type>()
                    .value(0);
                let digits = if array.data_type() == &DataType::Float32 {
                    6
                } else {
                    15
                };
                let text = super::float_text(v, digits);
                if v.is_finite() {
                    out.push_str(&text);
                } else {
                    write_string(&text, out)?;
                }
            }
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                let text = array_value_to_string(array, row)?;
                match flavor_of(field) {
                    Some(Flavor::Json) => out.push_str(&text),
                    Some(Flavor::Jsonb) => write_jsonb(&parse_or_error(&text)?, out)?,
                    None => write_string(&text, out)?,
                }
            }
            DataType::Date32 | DataType::Date64 => {
                write_string(&array_value_to_string(array, row)?, out)?
            }
            DataType::Time32(_) | DataType::Time64(_) => {
                write_string(&array_value_to_string(array, row)?, out)?
            }
            DataType::Timestamp(_, zone) => {
                write_string(&self.timestamp(array, row, zone.is_some())?, out)?
            }
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                let (items, item_field) = match array.data_type() {
                    DataType::List(f) => (array.as_list::<i32>().value(row), f.clone()),
                    DataType::LargeList(f) => (array.as_list::<i64>().value(row), f.clone()),
                    DataType::FixedSizeList(f, _) => {
                        (array.as_fixed_size_list().value(row), f.clone())
                    }
                    _ => unreachable!("matched above"),
                };
                out.push('[');
                for i in 0..items.len() {
                    if i > 0 {
                        out.push(',');
                    }
                    self.value(&items, &item_field, i, out)?;
                }
                out.push(']');
            }
            DataType::Struct(fields) => {
                let record = array.as_struct();
                out.push('{');
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_string(f.name(), out)?;
                    out.push(':');
                    self.value(record.column(i), f, row, out)?;
                }
                out.push('}');
            }
            DataType::Dictionary(_, _) => {
                let plain = datafusion::arrow::compute::cast(
                    &array.slice(row, 1),
                    &field_value_type(array.data_type()),
                )?;
                let plain_field = Field::new(field.name(), plain.data_type().clone(), true)
                    .with_metadata(field.metadata().clone());
                self.value(&plain, &plain_field, 0, out)?;
            }
            other => {
                return Err(super::pg_error(
                    ErrorKind::FeatureNotSupported,
                    format!("values of type {other} cannot be written as JSON here"),
                ));
            }
        }
        Ok(())
    }

    /// A timestamp as PostgreSQL writes it in JSON: ISO 8601 with `T`, microseconds without
    /// trailing zeros, a timestamptz in the session's zone with its offset.
    fn timestamp(&self, array: &ArrayRef, row: usize, zoned: bool) -> Result<String> {
        let nanos = datafusion::arrow::compute::cast(
            &array.slice(row, 1),
            &DataType::Timestamp(TimeUnit::Nanosecond, None),
        )?;
        let nanos = nanos
            .as_primitive::<datafusion::arrow::datatypes::TimestampNanosecondType>()
            .value(0);
        let utc = chrono::DateTime::from_timestamp_nanos(nanos);
        let micros = utc.timestamp_subsec_micros();
        let fraction = if micros == 0 {
            String::new()
        } else {
            format!(".{micros:06}").trim_end_matches('0').to_string()
        };
        Ok(if zoned {
            let zone = self
                .zone
                .unwrap_or_else(|| "+00:00".parse().expect("UTC offset"));
            let local = utc.with_timezone(&zone);
            format!(
                "{}{fraction}{}",
                local.format("%Y-%m-%dT%H:%M:%S"),
                local.format("%:z")
            )
        } else {
            format!("{}{fraction}", utc.naive_utc().format("%Y-%m-%dT%H:%M:%S"))
        })
    }
}

fn field_value_type(t: &DataType) -> DataType {
    match t {
        DataType::Dictionary(_, value) => value.as_ref().clone(),
        other => other.clone(),
    }
}

/// Every function of this module, for registration.
pub fn functions() -> Vec<ScalarUDF> {
    let all = [
        (Build::Value, Flavor::Json, "to_json"),
        (Build::Value, Flavor::Jsonb, "to_jsonb"),
        (Build::Object, Flavor::Json, "json_build_object"),
        (Build::Object, Flavor::Jsonb, "jsonb_build_object"),
        (Build::Array, Flavor::Json, "json_build_array"),
        (Build::Array, Flavor::Jsonb, "jsonb_build_array"),
        (Build::Element, Flavor::Json, AGG_ELEMENT),
        (Build::Element, Flavor::Jsonb, AGGB_ELEMENT),
        (Build::List, Flavor::Json, AGG_LIST),
        (Build::List, Flavor::Jsonb, AGGB_LIST),
        (Build::ListValues, Flavor::Json, "pg_json_list_values"),
        (Build::ListValues, Flavor::Jsonb, "pg_jsonb_list_values"),
    ];
    all.into_iter()
        .map(|(build, flavor, name)| ScalarUDF::from(JsonBuild::new(build, flavor, name)))
        .collect()
}
