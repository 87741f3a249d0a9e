//! `x::text` (and every other cast to a string: `CAST(x AS varchar)`, `x || 'a'`, `concat`) as
//! PostgreSQL's output functions write `x`. Arrow's cast wrote its own forms, which PostgreSQL
//! clients took for PostgreSQL's answers: `2024-01-01T00:00:00Z` for a timestamptz (PostgreSQL:
//! `2024-01-01 00:00:00+00`, in the session's time zone), `1 days 2 hours` for an interval
//! (`1 day 02:00:00`), `1e20` and `1.0` for floats (`1e+20`, `1`), `[1, 2]` for an array
//! (`{1,2}`), `{a: 1}` for a composite (`(1)`), the bytes themselves for a bytea (`\x6869`).
//!
//! The analyzer rule replaces such casts by [`PgTextOut`]; types whose Arrow form already is
//! PostgreSQL's (integers, numerics, dates, booleans, text) keep Arrow's cast. The DateStyle is
//! ISO and the IntervalStyle `postgres` (the defaults; the wire honours the others).

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float16Type, Float32Type, Float64Type};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};
use pgwire::types::format::FormatOptions;

use super::float_text::float_text;
use super::temporal_text;

/// Whether Arrow's cast of a `from` value to a string differs from PostgreSQL's output
/// function, so that the cast goes through [`PgTextOut`].
pub fn differs_from_postgres(from: &DataType) -> bool {
    match from {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => true,
        DataType::Timestamp(..) | DataType::Time32(_) | DataType::Time64(_) => true,
        DataType::Interval(_) => true,
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => true,
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::ListView(_)
        | DataType::LargeListView(_) => true,
        DataType::Struct(_) => true,
        DataType::Dictionary(_, value) => differs_from_postgres(value),
        _ => false,
    }
}

/// `pg_text_out(x)`: `x` as PostgreSQL's output function for its type writes it.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgTextOut {
    signature: Signature,
}

static TEXT_OUT: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(PgTextOut {
        // Stable: a timestamptz is written in the session's time zone.
        signature: Signature::any(1, Volatility::Stable),
    }))
});

impl PgTextOut {
    /// The call that replaces a cast of `operand` to a string.
    pub fn call(operand: Expr) -> Expr {
        TEXT_OUT.call(vec![operand])
    }
}

impl ScalarUDFImpl for PgTextOut {
    fn name(&self) -> &str {
        "pg_text_out"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let mut options = FormatOptions::default();
        options.date_style = "ISO, MDY".into();
        options.interval_style = "postgres".into();
        options.time_zone = args
            .config_options
            .execution
            .time_zone
            .clone()
            .unwrap_or_else(|| "UTC".into());
        let writer = TextWriter { options };
        super::over_arrays(&args, |arrays| {
            let column = &arrays[0];
            let mut out = StringBuilder::with_capacity(column.len(), column.len() * 16);
            for row in 0..column.len() {
                if column.is_null(row) {
                    out.append_null();
                } else {
                    out.append_value(writer.text(column, row)?);
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// Writes one value as text, a timestamptz in the session's time zone (`options.time_zone`).
struct TextWriter {
    options: FormatOptions,
}

/// A value (not NULL) of an array or composite column as PostgreSQL's output function writes
/// it, for the wire's text format: `{1.5,2}`, `{"2024-01-01 10:00:00"}` (the rows' own
/// rendering wrote Rust's forms inside arrays, `{1.5,2.0}`). Timestamps are in the session's zone.
pub fn nested_text(column: &ArrayRef, row: usize, options: &FormatOptions) -> Result<String> {
    let writer = TextWriter {
        options: options.clone(),
    };
    writer.text(column, row)
}

/// How an array element or a composite field is quoted (PostgreSQL's `array_out` and
/// `record_out` rules differ in the characters that force quotes).
#[derive(Clone, Copy)]
enum Nested {
    ArrayElement,
    RecordField,
}

impl TextWriter {
    /// A value (not NULL) as its type's output function writes it.
    fn text(&self, column: &ArrayRef, row: usize) -> Result<String> {
        Ok(match column.data_type() {
            DataType::Float64 => float_text(column.as_primitive::<Float64Type>().value(row), 15),
            DataType::Float32 => {
                float_text(column.as_primitive::<Float32Type>().value(row) as f64, 6)
            }
            DataType::Float16 => {
                float_text(column.as_primitive::<Float16Type>().value(row).to_f64(), 6)
            }
            DataType::Timestamp(unit, zone) => {
                let micros = temporal_text::timestamp_micros(column.as_ref(), row, unit);
                temporal_text::timestamp_text(micros, zone.as_deref(), &self.options)
                    .ok_or_else(|| out_of_range(column.data_type()))?
            }
            DataType::Time32(_) | DataType::Time64(_) | DataType::Interval(_) => {
                temporal_text::text(column.as_ref(), row, &self.options)
                    .ok_or_else(|| out_of_range(column.data_type()))?
            }
            DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_) => {
                let bytes = binary_value(column, row);
                let mut text = String::with_capacity(2 + bytes.len() * 2);
                text.push_str("\\x");
                for b in bytes {
                    text.push_str(&format!("{b:02x}"));
                }
                text
            }
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) => {
                let values = list_value(column, row)?;
                let mut text = String::from("{");
                for i in 0..values.len() {
                    if i > 0 {
                        text.push(',');
                    }
                    if is_null_at(&values, i) {
                        text.push_str("NULL");
                    } else {
                        self.nested(&values, i, Nested::ArrayElement, &mut text)?;
                    }
                }
                text.push('}');
                text
            }
            DataType::Struct(_) => {
                let record = column.as_struct();
                let mut text = String::from("(");
                for (i, field) in record.columns().iter().enumerate() {
                    if i > 0 {
                        text.push(',');
                    }
                    if !is_null_at(field, row) {
                        self.nested(field, row, Nested::RecordField, &mut text)?;
                    }
                }
                text.push(')');
                text
            }
            DataType::Boolean => (if column.as_boolean().value(row) {
                "true"
            } else {
                "false"
            })
            .to_string(),
            _ => {
                let one = cast(&column.slice(row, 1), &DataType::Utf8)?;
                one.as_string::<i32>().value(0).to_string()
            }
        })
    }

    /// An element of an array or a field of a composite, quoted where PostgreSQL quotes it.
    fn nested(&self, column: &ArrayRef, row: usize, kind: Nested, out: &mut String) -> Result<()> {
        let text = match column.data_type() {
            // Booleans inside arrays and composites are boolout's `t` / `f`.
            DataType::Boolean => (if column.as_boolean().value(row) {
                "t"
            } else {
                "f"
            })
            .to_string(),
            _ => self.text(column, row)?,
        };
        // A nested array is written bare inside an array (`{{1,2},{3,4}}`).
        let is_array = matches!(
            column.data_type(),
            DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..)
        );
        if matches!(kind, Nested::ArrayElement) && is_array {
            out.push_str(&text);
            return Ok(());
        }
        let needs_quotes = match kind {
            Nested::ArrayElement => {
                text.is_empty()
                    || text.eq_ignore_ascii_case("NULL")
                    || text.chars().any(|c| {
                        matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_ascii_whitespace()
                    })
            }
            Nested::RecordField => {
                text.is_empty()
                    || text.chars().any(|c| {
                        matches!(c, '(' | ')' | ',' | '"' | '\\') || c.is_ascii_whitespace()
                    })
            }
        };
        if !needs_quotes {
            out.push_str(&text);
            return Ok(());
        }
        out.push('"');
        for c in text.chars() {
            if c == '"' || c == '\\' {
                // array_out escapes both with a backslash; record_out doubles them.
                match kind {
                    Nested::ArrayElement => out.push('\\'),
                    Nested::RecordField => out.push(c),
                }
            }
            out.push(c);
        }
        out.push('"');
        Ok(())
    }
}

fn binary_value(column: &ArrayRef, row: usize) -> &[u8] {
    match column.data_type() {
        DataType::Binary => column.as_binary::<i32>().value(row),
        DataType::LargeBinary => column.as_binary::<i64>().value(row),
        DataType::BinaryView => column.as_binary_view().value(row),
        _ => column.as_fixed_size_binary().value(row),
    }
}

fn list_value(column: &ArrayRef, row: usize) -> Result<ArrayRef> {
    Ok(match column.data_type() {
        DataType::List(_) => column.as_list::<i32>().value(row),
        DataType::LargeList(_) => column.as_list::<i64>().value(row),
        DataType::FixedSizeList(..) => column.as_fixed_size_list().value(row),
        other => return datafusion::common::exec_err!("{other} is not a list"),
    })
}

fn out_of_range(t: &DataType) -> datafusion::error::DataFusionError {
    super::pg_error(
        crate::error::ErrorKind::DatetimeFieldOverflow,
        format!("{t} value out of range for text output"),
    )
}

/// Whether the value at `row` is NULL, a column of Arrow's `Null` type included (it has no null
/// mask, so `is_null` said no and `ROW(1, NULL)` was written `(1,"")`, `ARRAY[NULL, NULL]`
/// `{"",""}`).
pub(super) fn is_null_at(column: &ArrayRef, row: usize) -> bool {
    column.data_type() == &DataType::Null || column.is_null(row)
}
