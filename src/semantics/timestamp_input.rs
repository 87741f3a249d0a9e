//! Timestamp texts PostgreSQL reads and Arrow's cast does not: a time without seconds
//! (`'2024-01-01 10:00'`, `'2024-01-01T9:05+02'`). `INSERT INTO t VALUES ('2024-01-01 10:00')`
//! into a timestamp column failed with 22008 (DataFusion folds a constant `'...'::timestamp`
//! with its own, wider parser; a column's cast is Arrow's). The rule puts the text of every cast
//! from text to a timestamp through [`PgTimestampText`], which adds the seconds Arrow wants and
//! leaves every other text as it is for the cast to read or report.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// `pg_timestamp_text(text)`: see the module header.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgTimestampText {
    signature: Signature,
}

static TIMESTAMP_TEXT: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(PgTimestampText {
        signature: Signature::any(1, Volatility::Immutable),
    }))
});

impl PgTimestampText {
    /// The text `operand` (a string) in a form Arrow's timestamp cast reads.
    pub fn call(operand: Expr) -> Expr {
        TIMESTAMP_TEXT.call(vec![operand])
    }
}

impl ScalarUDFImpl for PgTimestampText {
    fn name(&self) -> &str {
        "pg_timestamp_text"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let text = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let mut out = StringBuilder::with_capacity(text.len(), text.value_data().len());
            for row in 0..text.len() {
                if text.is_null(row) {
                    out.append_null();
                } else {
                    let value = text.value(row);
                    match with_seconds(value) {
                        Some(fixed) => out.append_value(fixed),
                        None => out.append_value(value),
                    }
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// `YYYY-MM-DD{ |T}H[H]:MM` followed by nothing or a zone, with the hour made two digits and
/// `:00` seconds added; `None` for any other text. Why: Arrow's timestamp parser needs the
/// seconds, PostgreSQL does not.
pub fn with_seconds(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let bytes = trimmed.as_bytes();
    let date_shaped = bytes.len() > 11
        && bytes[..4].iter().all(u8::is_ascii_digit)
        && bytes[4] == b'-'
        && bytes[5..7].iter().all(u8::is_ascii_digit)
        && bytes[7] == b'-'
        && bytes[8..10].iter().all(u8::is_ascii_digit)
        && matches!(bytes[10], b' ' | b'T' | b't');
    if !date_shaped {
        return None;
    }
    let clock = &trimmed[11..];
    let hour_digits = clock.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=2).contains(&hour_digits) {
        return None;
    }
    let rest = &clock[hour_digits..];
    let minutes = rest.strip_prefix(':')?;
    let minute_digits = minutes.bytes().take_while(u8::is_ascii_digit).count();
    if minute_digits != 2 {
        return None;
    }
    let after = &minutes[2..];
    if after.starts_with(':') || after.starts_with('.') {
        // Seconds are there: Arrow reads it, or reports it.
        if hour_digits == 2 {
            return None;
        }
    } else if !(after.is_empty() || after.starts_with(['+', '-', 'Z', 'z', ' '])) {
        return None;
    }
    let seconds = if after.starts_with(':') || after.starts_with('.') {
        ""
    } else {
        ":00"
    };
    Some(format!(
        "{} {:0>2}:{}{}{}",
        &trimmed[..10],
        &clock[..hour_digits],
        &minutes[..2],
        seconds,
        after
    ))
}

#[cfg(test)]
mod tests {
    use super::with_seconds;

    #[test]
    fn a_clock_without_seconds_gets_them() {
        assert_eq!(
            with_seconds("2024-01-01 10:00").as_deref(),
            Some("2024-01-01 10:00:00")
        );
        assert_eq!(
            with_seconds("2024-01-01T9:05+02").as_deref(),
            Some("2024-01-01 09:05:00+02")
        );
        assert_eq!(
            with_seconds("2024-01-01 9:05:07.5").as_deref(),
            Some("2024-01-01 09:05:07.5")
        );
        assert_eq!(with_seconds("2024-01-01 10:00:00"), None);
        assert_eq!(with_seconds("2024-01-01"), None);
        assert_eq!(with_seconds("2024-01-01 10:0"), None);
        assert_eq!(with_seconds("yesterday"), None);
    }
}
