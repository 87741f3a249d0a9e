//! PostgreSQL's formatting functions as SQL functions: `to_char(timestamp | date | number, text)`,
//! `to_date(text, text)` and `to_timestamp(text, text)` with PostgreSQL's template patterns
//! (`YYYY-MM-DD`, `FMMonth`, `999G999D99`), replacing DataFusion's functions of the same names,
//! which take chrono's `%Y-%m-%d` and echo a PostgreSQL pattern back as text: a silent wrong
//! answer for every client that writes PostgreSQL SQL. The patterns themselves live in
//! [`super::pg_format`]; this module maps Arrow values to them and back.
//!
//! The one-argument forms DataFusion defines (`to_timestamp(1700000000)`, `to_date('2024-01-02')`)
//! keep DataFusion's behaviour.

use std::sync::Arc;

use chrono::Datelike as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, Date32Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue, exec_err, not_impl_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::prelude::SessionContext;

use super::pg_format::{DateTimeTemplate, format_float, format_number};

/// Registers `to_char`, `to_date` and `to_timestamp` over DataFusion's own.
pub fn install_formatting_functions(ctx: &SessionContext) {
    let config = ctx.state().config_options().clone();
    ctx.register_udf(ScalarUDF::from(ToChar::new(&config)));
    ctx.register_udf(ScalarUDF::from(ToDate::new()));
    ctx.register_udf(ScalarUDF::from(ToTimestamp::new(&config)));
}

/// The session's time zone (`SET TIME ZONE`), which PostgreSQL formats and parses in.
fn session_zone(config: &ConfigOptions) -> String {
    config
        .execution
        .time_zone
        .clone()
        .unwrap_or_else(|| "UTC".into())
}

/// Any array as text (the patterns and the values `format_number` and the parsers read).
fn as_text(values: &ArrayRef) -> Result<StringArray> {
    Ok(cast(values, &DataType::Utf8)?
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8")
        .clone())
}

/// PostgreSQL's error for a value the pattern cannot format or parse.
fn datetime_error(message: String) -> datafusion::error::DataFusionError {
    use crate::error::{Error, ErrorKind};
    // The SQLSTATEs of PostgreSQL's formatting.c for the same messages (the message alone
    // became 22000, or 22003 for any "out of range"): a text the pattern cannot read is 22007.
    let kind = if message.starts_with("cannot use") {
        ErrorKind::Syntax
    } else if message.contains("not recognized") {
        ErrorKind::InvalidParameterValue
    } else if message.starts_with("integer out of range") {
        ErrorKind::NumericValueOutOfRange
    } else if message.starts_with("cannot convert") {
        ErrorKind::FeatureNotSupported
    } else if message.contains("out of range") || message.contains("cannot be NaN") {
        ErrorKind::DatetimeFieldOverflow
    } else {
        ErrorKind::InvalidDatetimeFormat
    };
    datafusion::error::DataFusionError::External(Box::new(Error::new(kind, message)))
}

/// The pattern argument: one constant per call in practice; per row otherwise.
enum Patterns {
    One(Option<String>),
    PerRow(StringArray),
}

impl Patterns {
    fn of(value: &ColumnarValue) -> Result<Self> {
        Ok(match value {
            ColumnarValue::Scalar(s) => Self::One(match s {
                ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
                    v.clone()
                }
                ScalarValue::Null => None,
                other => return exec_err!("the format must be text, not {}", other.data_type()),
            }),
            ColumnarValue::Array(a) => Self::PerRow(as_text(a)?),
        })
    }

    fn get(&self, row: usize) -> Option<&str> {
        match self {
            Self::One(p) => p.as_deref(),
            Self::PerRow(a) => (!a.is_null(row)).then(|| a.value(row)),
        }
    }
}

/// Parsed templates, reused while the pattern stays the same.
#[derive(Default)]
struct TemplateCache {
    last: Option<(String, DateTimeTemplate)>,
}

impl TemplateCache {
    fn get(&mut self, pattern: &str) -> Result<&DateTimeTemplate> {
        if self.last.as_ref().is_none_or(|(p, _)| p != pattern) {
            let template = DateTimeTemplate::parse(pattern).map_err(datetime_error)?;
            self.last = Some((pattern.to_string(), template));
        }
        Ok(&self.last.as_ref().expect("set above").1)
    }
}

/// A zone by name or offset, as Arrow understands time zone strings.
fn parse_zone(name: &str) -> Result<Tz> {
    name.parse::<Tz>()
        .map_err(|e| datetime_error(format!("time zone \"{name}\" not recognized: {e}")))
}

/// The abbreviation PostgreSQL prints for `TZ` in this zone at this instant (`CEST`, `UTC`);
/// None for a zone given as an offset, which `TZ` prints as the offset.
fn zone_abbrev(zone: &str, instant: &DateTime<Utc>) -> Option<String> {
    use chrono_tz::OffsetName as _;
    if matches!(
        zone.to_ascii_uppercase().as_str(),
        "UTC" | "Z" | "ETC/UTC" | "+00:00"
    ) {
        return Some("UTC".into());
    }
    let named: chrono_tz::Tz = zone.parse().ok()?;
    let offset = named.offset_from_utc_datetime(&instant.naive_utc());
    offset.abbreviation().map(str::to_string)
}

/// `to_char(value, pattern)`.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToChar {
    signature: Signature,
    zone: String,
}

impl ToChar {
    fn new(config: &ConfigOptions) -> Self {
        Self {
            signature: Signature::any(2, Volatility::Stable),
            zone: session_zone(config),
        }
    }

    fn format_times(
        &self,
        values: &ArrayRef,
        patterns: &Patterns,
        rows: usize,
    ) -> Result<StringArray> {
        // Instants (timestamptz, and dates, which PostgreSQL formats as timestamptz at
        // midnight of the session's zone) carry an offset; timestamps without zone do not.
        let (micros, zone): (TimestampMicrosecondArray, Option<String>) = match values.data_type() {
            DataType::Timestamp(_, tz) => {
                let cast_to = DataType::Timestamp(TimeUnit::Microsecond, tz.clone());
                let array = cast(values, &cast_to)?;
                let array = array
                    .as_any()
                    .downcast_ref::<TimestampMicrosecondArray>()
                    .cloned()
                    .expect("cast to microseconds");
                (array, tz.as_ref().map(|_| self.zone.clone()))
            }
            DataType::Date32 | DataType::Date64 => {
                let days = cast(values, &DataType::Date32)?;
                let days = days
                    .as_any()
                    .downcast_ref::<Date32Array>()
                    .expect("cast to Date32");
                let zone = parse_zone(&self.zone)?;
                let micros: TimestampMicrosecondArray = days
                    .iter()
                    .map(|d| {
                        let local = NaiveDate::from_num_days_from_ce_opt(d? + 719_163)?
                            .and_hms_opt(0, 0, 0)?;
                        let instant = zone.from_local_datetime(&local).earliest()?;
                        Some(instant.timestamp_micros())
                    })
                    .collect();
                (micros, Some(self.zone.clone()))
            }
            other => return not_impl_err!("to_char({other}, text) is not supported"),
        };
        let zone = zone.as_deref().map(parse_zone).transpose()?;
        format_each(patterns, rows, &micros, |template, row| {
            let Some(utc) = DateTime::<Utc>::from_timestamp_micros(micros.value(row)) else {
                return exec_err!("timestamp out of range");
            };
            match &zone {
                Some(zone) => {
                    let local = utc.with_timezone(zone);
                    let offset = local.offset().fix().local_minus_utc();
                    let abbrev = zone_abbrev(&self.zone, &utc);
                    template.format(local.naive_local(), Some(offset), abbrev.as_deref())
                }
                None => template.format(utc.naive_utc(), None, None),
            }
            .map_err(datetime_error)
        })
    }

    fn format_numbers(
        &self,
        values: &ArrayRef,
        patterns: &Patterns,
        rows: usize,
    ) -> Result<StringArray> {
        // real and double precision keep 6 and 15 significant digits and round ties to even;
        // exact types are formatted from their decimal text.
        let float4 = values.data_type() == &DataType::Float32;
        let floats = match values.data_type() {
            DataType::Float16 | DataType::Float32 | DataType::Float64 => Some(
                cast(values, &DataType::Float64)?
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::Float64Array>()
                    .expect("cast to Float64")
                    .clone(),
            ),
            _ => None,
        };
        let text = match floats {
            Some(_) => None,
            None => Some(as_text(values)?),
        };
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let (Some(pattern), false) = (patterns.get(row), values.is_null(row)) else {
                out.push(None);
                continue;
            };
            let formatted = match (&floats, &text) {
                (Some(floats), _) => format_float(floats.value(row), pattern, float4),
                (None, Some(text)) => format_number(text.value(row), pattern),
                (None, None) => unreachable!("one of the two is set above"),
            };
            out.push(Some(formatted.map_err(datetime_error)?));
        }
        Ok(StringArray::from(out))
    }
}

impl ScalarUDFImpl for ToChar {
    fn name(&self) -> &str {
        "to_char"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        Some(ScalarUDF::from(Self::new(config)))
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let patterns = Patterns::of(&args.args[1])?;
        let values = args.args[0].to_array(rows)?;
        let out = match values.data_type() {
            DataType::Null => StringArray::from(vec![None::<&str>; rows]),
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64 => {
                self.format_times(&values, &patterns, rows)?
            }
            t if t.is_numeric() => self.format_numbers(&values, &patterns, rows)?,
            DataType::Interval(_) => format_intervals(&values, &patterns, rows)?,
            DataType::Duration(_) => {
                return not_impl_err!("to_char(duration, text) is not supported yet");
            }
            other => return plan_err!("function to_char({other}, text) does not exist"),
        };
        shaped(&args, Arc::new(out))
    }
}

/// `to_char(interval, pattern)` of each row (see `pg_format::interval`).
fn format_intervals(values: &ArrayRef, patterns: &Patterns, rows: usize) -> Result<StringArray> {
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{IntervalMonthDayNanoType, IntervalUnit};
    let intervals = cast(values, &DataType::Interval(IntervalUnit::MonthDayNano))?;
    let intervals = intervals.as_primitive::<IntervalMonthDayNanoType>();
    format_each(patterns, rows, intervals, |template, row| {
        let value = intervals.value(row);
        template
            .format_interval(value.months, value.days, value.nanoseconds)
            .map_err(|e| {
                use super::pg_format::IntervalFormatError;
                use crate::error::{Error, ErrorKind};
                let error = match e {
                    IntervalFormatError::InvalidForInterval => Error::new(
                        ErrorKind::InvalidDatetimeFormat,
                        "invalid format specification for an interval value",
                    )
                    .with_hint("Intervals are not tied to specific calendar dates."),
                    IntervalFormatError::NotSupported(what) => Error::unsupported(format!(
                        "to_char of an interval with {what} is not supported"
                    )),
                    IntervalFormatError::Other(message) => return datetime_error(message),
                };
                datafusion::error::DataFusionError::External(Box::new(error))
            })
    })
}

/// `to_char`'s loop over rows of a datetime template: NULL for a NULL value or pattern, and for
/// an empty pattern (PostgreSQL's `to_char(x, '')`); else `format` of the row's template.
fn format_each(
    patterns: &Patterns,
    rows: usize,
    values: &dyn Array,
    mut format: impl FnMut(&DateTimeTemplate, usize) -> Result<String>,
) -> Result<StringArray> {
    let mut templates = TemplateCache::default();
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let (Some(pattern), false) = (patterns.get(row), values.is_null(row)) else {
            out.push(None);
            continue;
        };
        let template = templates.get(pattern)?;
        if template.is_empty() {
            out.push(None);
            continue;
        }
        out.push(Some(format(template, row)?));
    }
    Ok(StringArray::from(out))
}

/// A wall-clock time and the UTC offset its text gave, if any.
type Parsed = (NaiveDateTime, Option<i32>);

/// Parses each text with its pattern; `None` for NULL text or pattern.
fn parse_each(args: &ScalarFunctionArgs) -> Result<Vec<Option<Parsed>>> {
    let rows = args.number_rows;
    let text = as_text(&args.args[0].to_array(rows)?)?;
    let patterns = Patterns::of(&args.args[1])?;
    let mut templates = TemplateCache::default();
    let mut out = Vec::with_capacity(rows);
    for row in 0..rows {
        let (Some(pattern), false) = (patterns.get(row), text.is_null(row)) else {
            out.push(None);
            continue;
        };
        let parsed = templates
            .get(pattern)?
            .parse_value(text.value(row))
            .map_err(datetime_error)?;
        out.push(Some(parsed));
    }
    Ok(out)
}

/// Wraps a result array as the call's shape (scalar in, scalar out).
fn shaped(args: &ScalarFunctionArgs, out: ArrayRef) -> Result<ColumnarValue> {
    if args
        .args
        .iter()
        .all(|a| matches!(a, ColumnarValue::Scalar(_)))
    {
        return Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?));
    }
    Ok(ColumnarValue::Array(out))
}

/// `to_date(text, pattern)`; `to_date(text)` stays DataFusion's.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToDate {
    signature: Signature,
    datafusion: Arc<ScalarUDF>,
}

impl ToDate {
    fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Immutable),
            datafusion: datafusion::functions::datetime::to_date(),
        }
    }
}

impl ScalarUDFImpl for ToDate {
    fn name(&self) -> &str {
        "to_date"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.len() {
            1 => self.datafusion.return_type(arg_types),
            2 => Ok(DataType::Date32),
            n => plan_err!("function to_date with {n} arguments does not exist"),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if args.args.len() == 1 {
            return self.datafusion.invoke_with_args(args);
        }
        let days: Date32Array = parse_each(&args)?
            .into_iter()
            .map(|p| p.map(|(local, _)| local.date().num_days_from_ce() - 719_163))
            .collect();
        shaped(&args, Arc::new(days))
    }
}

/// `to_timestamp(text, pattern)` (a timestamptz in the session's zone, as PostgreSQL's);
/// the other forms stay DataFusion's.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ToTimestamp {
    signature: Signature,
    zone: String,
    datafusion: Arc<ScalarUDF>,
}

impl ToTimestamp {
    fn new(config: &ConfigOptions) -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Stable),
            zone: session_zone(config),
            datafusion: datafusion::functions::datetime::to_timestamp(config),
        }
    }

    fn is_pattern_call(arg_types: &[DataType]) -> bool {
        arg_types.len() == 2
    }

    /// `to_timestamp(seconds since 1970)`: DataFusion's read an integer as a wall-clock time in
    /// the session's zone (`to_timestamp(0)` was five hours off in New York).
    fn is_epoch_call(arg_types: &[DataType]) -> bool {
        matches!(arg_types, [t] if t.is_numeric())
    }

    /// The instants of `to_timestamp(seconds)`, to the microsecond as PostgreSQL rounds them.
    fn epoch_instants(&self, args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
        let seconds = cast(
            &args.args[0].to_array(args.number_rows)?,
            &DataType::Float64,
        )?;
        let micros = seconds
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Float64Array>()
            .expect("cast to Float64")
            .iter()
            .map(|v| match v {
                None => Ok(None),
                Some(v) if v.is_nan() => Err(datetime_error("timestamp cannot be NaN".into())),
                Some(v) => {
                    let micros = (v * 1e6).round();
                    // PostgreSQL's range ends in 294276; a literal's here in 2262.
                    if micros.is_finite() && micros.abs() < 9.2e18 {
                        Ok(Some(micros as i64))
                    } else {
                        Err(datetime_error("timestamp out of range".into()))
                    }
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let array = TimestampMicrosecondArray::from(micros).with_timezone(self.zone.as_str());
        shaped(args, Arc::new(array))
    }
}

impl ScalarUDFImpl for ToTimestamp {
    fn name(&self) -> &str {
        "to_timestamp"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        Some(ScalarUDF::from(Self::new(config)))
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("return_field_from_args is called instead")
    }
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        if Self::is_pattern_call(&types) || Self::is_epoch_call(&types) {
            return Ok(Arc::new(Field::new(
                self.name(),
                DataType::Timestamp(TimeUnit::Microsecond, Some(self.zone.as_str().into())),
                true,
            )));
        }
        if types.len() > 2 {
            return plan_err!(
                "function to_timestamp with {} arguments does not exist",
                types.len()
            );
        }
        self.datafusion.return_field_from_args(args)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.args.iter().map(|a| a.data_type()).collect();
        if Self::is_epoch_call(&types) {
            return self.epoch_instants(&args);
        }
        if !Self::is_pattern_call(&types) {
            return self.datafusion.invoke_with_args(args);
        }
        let zone = parse_zone(&self.zone)?;
        let micros = parse_each(&args)?
            .into_iter()
            .map(|parsed| {
                let Some((local, offset)) = parsed else {
                    return Ok(None);
                };
                let instant = match offset {
                    Some(seconds) => chrono::FixedOffset::east_opt(seconds)
                        .and_then(|o| o.from_local_datetime(&local).single())
                        .map(|t| t.timestamp_micros()),
                    None => zone
                        .from_local_datetime(&local)
                        .earliest()
                        .map(|t| t.timestamp_micros()),
                };
                instant
                    .map(Some)
                    .ok_or_else(|| datetime_error("timestamp out of range".into()))
            })
            .collect::<Result<Vec<_>>>()?;
        let array = TimestampMicrosecondArray::from(micros).with_timezone(self.zone.as_str());
        shaped(&args, Arc::new(array))
    }
}
