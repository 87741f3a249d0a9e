//! Timestamps, times and intervals in text format as PostgreSQL prints them: fractional seconds
//! with their trailing zeros dropped (`10:00:01.25`, `10:00:00`; the encoder printed six digits
//! always) and, in the default `postgres` IntervalStyle, the sign rules of PostgreSQL's
//! `EncodeInterval` (`-1 days +02:00:00`; the encoder dropped the `+`). Other DateStyles keep
//! their field order (the encoder's formats), with the same fraction. Offsets keep their
//! minutes (`+05:30`; chrono's `%:::z` dropped them).

use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, NaiveTime, Timelike};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{
    DataType, IntervalDayTimeType, IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType,
    Time32MillisecondType, Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType,
};
use pgwire::types::format::FormatOptions;
use pgwire::types::format::date_style::DateStyle;

/// The value at `row` (not NULL) as PostgreSQL's text, or `None` for a type this module leaves
/// to the encoder (and for an interval in a non-default IntervalStyle).
pub fn text(column: &dyn Array, row: usize, options: &FormatOptions) -> Option<String> {
    match column.data_type() {
        DataType::Timestamp(unit, zone) => {
            let micros = timestamp_micros(column, row, unit);
            timestamp_text(micros, zone.as_deref(), options)
        }
        DataType::Time32(_) | DataType::Time64(_) => {
            let micros = time_micros(column, row)?;
            let time = NaiveTime::from_num_seconds_from_midnight_opt(
                (micros / 1_000_000) as u32,
                (micros % 1_000_000) as u32 * 1000,
            )?;
            Some(with_fraction(&time, "%H:%M:%S%.6f", micros % 1_000_000))
        }
        DataType::Interval(unit) => {
            if !options.interval_style.eq_ignore_ascii_case("postgres") {
                return None;
            }
            let (months, days, micros) = interval_parts(column, row, unit);
            Some(interval_text(months, days, micros))
        }
        _ => None,
    }
}

pub(crate) fn timestamp_micros(column: &dyn Array, row: usize, unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => column.as_primitive::<TimestampSecondType>().value(row) * 1_000_000,
        TimeUnit::Millisecond => {
            column.as_primitive::<TimestampMillisecondType>().value(row) * 1000
        }
        TimeUnit::Microsecond => column.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => column.as_primitive::<TimestampNanosecondType>().value(row) / 1000,
    }
}

fn time_micros(column: &dyn Array, row: usize) -> Option<i64> {
    Some(match column.data_type() {
        DataType::Time32(TimeUnit::Second) => {
            column.as_primitive::<Time32SecondType>().value(row) as i64 * 1_000_000
        }
        DataType::Time32(TimeUnit::Millisecond) => {
            column.as_primitive::<Time32MillisecondType>().value(row) as i64 * 1000
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            column.as_primitive::<Time64MicrosecondType>().value(row)
        }
        DataType::Time64(TimeUnit::Nanosecond) => {
            column.as_primitive::<Time64NanosecondType>().value(row) / 1000
        }
        _ => return None,
    })
}

/// A timestamp (in `zone` when it has one) in the session's DateStyle.
pub(crate) fn timestamp_text(
    micros: i64,
    zone: Option<&str>,
    options: &FormatOptions,
) -> Option<String> {
    let style = DateStyle::new(&options.date_style);
    let utc = DateTime::from_timestamp_micros(micros)?;
    let fraction = micros.rem_euclid(1_000_000);
    Some(match zone {
        Some(zone) => {
            // A timestamptz is written in the session's zone, whatever zone Arrow carries it
            // in (a Delta column's is UTC).
            let zone = Tz::from_str(&options.time_zone)
                .or_else(|_| Tz::from_str(zone))
                .ok()?;
            let local = utc.with_timezone(&zone).fixed_offset();
            let format = style.full_tz_format_str();
            // chrono's `%:::z` drops the minutes of `+05:30`; PostgreSQL writes `+HH[:MM[:SS]]`.
            match format.strip_suffix("%:::z") {
                Some(without_offset) => {
                    let mut text = with_fraction(&local, without_offset, fraction);
                    text.push_str(&offset_text(local.offset().local_minus_utc()));
                    text
                }
                None => with_fraction(&local, &format, fraction),
            }
        }
        None => {
            let naive: NaiveDateTime = utc.naive_utc();
            debug_assert_eq!(naive.nanosecond() as i64 / 1000, fraction);
            with_fraction(&naive, style.full_format_str(), fraction)
        }
    })
}

/// A UTC offset as PostgreSQL's ISO DateStyle writes it: `+05`, `+05:30`, `-00:25:21`.
fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (hours, minutes, secs) = (abs / 3600, abs / 60 % 60, abs % 60);
    match (minutes, secs) {
        (0, 0) => format!("{sign}{hours:02}"),
        (_, 0) => format!("{sign}{hours:02}:{minutes:02}"),
        _ => format!("{sign}{hours:02}:{minutes:02}:{secs:02}"),
    }
}

/// Something chrono formats, printed with `format` whose `%.6f` becomes PostgreSQL's fraction.
trait Formattable {
    fn formatted(&self, format: &str) -> String;
}

impl Formattable for NaiveDateTime {
    fn formatted(&self, format: &str) -> String {
        self.format(format).to_string()
    }
}

impl Formattable for NaiveTime {
    fn formatted(&self, format: &str) -> String {
        self.format(format).to_string()
    }
}

impl Formattable for DateTime<chrono::FixedOffset> {
    fn formatted(&self, format: &str) -> String {
        self.format(format).to_string()
    }
}

fn with_fraction(value: &impl Formattable, format: &str, micros: i64) -> String {
    value.formatted(&format.replace("%.6f", &fraction_text(micros)))
}

/// `.25` for 250000 microseconds, nothing for none: PostgreSQL's `AppendSeconds` form.
fn fraction_text(micros: i64) -> String {
    if micros == 0 {
        return String::new();
    }
    let digits = format!("{:06}", micros.abs());
    format!(".{}", digits.trim_end_matches('0'))
}

fn interval_parts(column: &dyn Array, row: usize, unit: &IntervalUnit) -> (i32, i32, i64) {
    match unit {
        IntervalUnit::YearMonth => (
            column.as_primitive::<IntervalYearMonthType>().value(row),
            0,
            0,
        ),
        IntervalUnit::DayTime => {
            let v = column.as_primitive::<IntervalDayTimeType>().value(row);
            (0, v.days, v.milliseconds as i64 * 1000)
        }
        IntervalUnit::MonthDayNano => {
            let v = column.as_primitive::<IntervalMonthDayNanoType>().value(row);
            (v.months, v.days, v.nanoseconds / 1000)
        }
    }
}

/// PostgreSQL's `EncodeInterval` in the `postgres` style: years, months and days as words, the
/// time as `[-]HH:MM:SS[.f]`, a `+` before a positive field that follows a negative one.
fn interval_text(months: i32, days: i32, micros: i64) -> String {
    let mut out = String::new();
    let mut is_zero = true;
    let mut is_before = false;
    let mut add = |value: i64, unit: &str, out: &mut String| {
        if value == 0 {
            return;
        }
        let plural = if value != 1 { "s" } else { "" };
        let sign = if is_before && value > 0 { "+" } else { "" };
        let space = if is_zero { "" } else { " " };
        out.push_str(&format!("{space}{sign}{value} {unit}{plural}"));
        is_before = value < 0;
        is_zero = false;
    };
    add((months / 12) as i64, "year", &mut out);
    add((months % 12) as i64, "mon", &mut out);
    add(days as i64, "day", &mut out);
    if is_zero || micros != 0 {
        let negative = micros < 0;
        let abs = micros.unsigned_abs();
        let hours = abs / 3_600_000_000;
        let minutes = abs / 60_000_000 % 60;
        let seconds = abs / 1_000_000 % 60;
        let sign = if negative {
            "-"
        } else if is_before {
            "+"
        } else {
            ""
        };
        let space = if is_zero { "" } else { " " };
        out.push_str(&format!(
            "{space}{sign}{hours:02}:{minutes:02}:{seconds:02}{}",
            fraction_text((abs % 1_000_000) as i64)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_print_as_postgres_prints_them() {
        let day = 86_400_000_000i64;
        assert_eq!(interval_text(0, -1, 2 * 3_600_000_000), "-1 days +02:00:00");
        assert_eq!(interval_text(0, 0, 1_500_000), "00:00:01.5");
        assert_eq!(interval_text(0, 0, 0), "00:00:00");
        assert_eq!(interval_text(-12, 0, 0), "-1 years");
        assert_eq!(interval_text(11, 0, 0), "11 mons");
        assert_eq!(interval_text(14, 3, 0), "1 year 2 mons 3 days");
        assert_eq!(interval_text(0, 0, day + 250_000), "24:00:00.25");
        assert_eq!(interval_text(0, 0, -2 * 3_600_000_000), "-02:00:00");
        assert_eq!(interval_text(1, -1, 0), "1 mon -1 days");
    }

    #[test]
    fn offsets_print_as_postgres_prints_them() {
        assert_eq!(offset_text(0), "+00");
        assert_eq!(offset_text(19_800), "+05:30");
        assert_eq!(offset_text(-18_000), "-05");
        assert_eq!(offset_text(-1521), "-00:25:21");
    }

    #[test]
    fn fractions_drop_trailing_zeros() {
        assert_eq!(fraction_text(0), "");
        assert_eq!(fraction_text(250_000), ".25");
        assert_eq!(fraction_text(1), ".000001");
    }
}
