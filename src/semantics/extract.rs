//! `extract(field FROM x)` and `date_part('field', x)` as PostgreSQL 15 answers them.
//!
//! DataFusion's `date_part` returns an integer for every field but `epoch`, so the seconds of
//! `10:00:01.5` came back as `1`: a silent wrong answer. PostgreSQL's `extract` returns a
//! `numeric` (`1.500000`, milliseconds `1500.000`), its `date_part` a `double precision`, and
//! both know `century`, `decade`, `millennium`, `julian` and the time-zone fields. This module
//! computes every field from the value's calendar parts (the session zone's for a timestamp
//! with time zone), for dates, timestamps, times and intervals, with PostgreSQL's errors for a
//! field a type has not (0A000) and a field nobody knows (22023).

use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Decimal128Builder, Float64Builder, IntervalMonthDayNanoArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, IntervalUnit, Time64MicrosecondType, TimeUnit,
    TimestampMicrosecondType,
};
use datafusion::common::{ScalarValue, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::ErrorKind;

/// The fields PostgreSQL extracts, by its canonical names (synonyms are read by [`Unit::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Microseconds,
    Milliseconds,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Decade,
    Century,
    Millennium,
    Epoch,
    Dow,
    IsoDow,
    Doy,
    IsoYear,
    Julian,
    Timezone,
    TimezoneHour,
    TimezoneMinute,
}

impl Unit {
    /// The field a name means, with PostgreSQL's plurals and abbreviations.
    fn parse(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "microsecond" | "microseconds" | "us" | "usec" | "usecs" | "useconds" => {
                Self::Microseconds
            }
            "millisecond" | "milliseconds" | "ms" | "msec" | "msecs" | "mseconds" => {
                Self::Milliseconds
            }
            "second" | "seconds" | "s" | "sec" | "secs" => Self::Second,
            "minute" | "minutes" | "m" | "min" | "mins" => Self::Minute,
            "hour" | "hours" | "h" | "hr" | "hrs" => Self::Hour,
            "day" | "days" | "d" => Self::Day,
            "week" | "weeks" | "w" => Self::Week,
            "month" | "months" | "mon" | "mons" => Self::Month,
            "quarter" | "qtr" => Self::Quarter,
            "year" | "years" | "y" | "yr" | "yrs" => Self::Year,
            "decade" | "decades" | "dec" | "decs" => Self::Decade,
            "century" | "centuries" | "c" | "cent" => Self::Century,
            "millennium" | "millennia" | "mil" | "mils" | "millenniums" => Self::Millennium,
            "epoch" => Self::Epoch,
            "dow" => Self::Dow,
            "isodow" => Self::IsoDow,
            "doy" => Self::Doy,
            "isoyear" => Self::IsoYear,
            "julian" | "j" => Self::Julian,
            "timezone" => Self::Timezone,
            "timezone_h" | "timezone_hour" => Self::TimezoneHour,
            "timezone_m" | "timezone_minute" => Self::TimezoneMinute,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Microseconds => "microseconds",
            Self::Milliseconds => "milliseconds",
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Quarter => "quarter",
            Self::Year => "year",
            Self::Decade => "decade",
            Self::Century => "century",
            Self::Millennium => "millennium",
            Self::Epoch => "epoch",
            Self::Dow => "dow",
            Self::IsoDow => "isodow",
            Self::Doy => "doy",
            Self::IsoYear => "isoyear",
            Self::Julian => "julian",
            Self::Timezone => "timezone",
            Self::TimezoneHour => "timezone_hour",
            Self::TimezoneMinute => "timezone_minute",
        }
    }
}

/// What kind of value a field is taken from; PostgreSQL allows different fields for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Date,
    Timestamp,
    TimestampTz,
    Time,
    Interval,
}

impl Source {
    fn of(data_type: &DataType) -> Option<Self> {
        Some(match data_type {
            DataType::Date32 | DataType::Date64 => Self::Date,
            DataType::Timestamp(_, None) => Self::Timestamp,
            DataType::Timestamp(_, Some(_)) => Self::TimestampTz,
            DataType::Time32(_) | DataType::Time64(_) => Self::Time,
            DataType::Interval(_) => Self::Interval,
            _ => return None,
        })
    }

    fn sql_name(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::Timestamp => "timestamp without time zone",
            Self::TimestampTz => "timestamp with time zone",
            Self::Time => "time without time zone",
            Self::Interval => "interval",
        }
    }

    /// Whether PostgreSQL's `extract` answers `unit` for this kind of value.
    fn supports(self, unit: Unit) -> bool {
        use Unit::*;
        match self {
            Self::Date => !matches!(
                unit,
                Microseconds
                    | Milliseconds
                    | Second
                    | Minute
                    | Hour
                    | Timezone
                    | TimezoneHour
                    | TimezoneMinute
            ),
            Self::Timestamp => !matches!(unit, Timezone | TimezoneHour | TimezoneMinute | Julian),
            Self::TimestampTz => unit != Julian,
            Self::Time => matches!(
                unit,
                Microseconds | Milliseconds | Second | Minute | Hour | Epoch
            ),
            Self::Interval => matches!(
                unit,
                Microseconds
                    | Milliseconds
                    | Second
                    | Minute
                    | Hour
                    | Day
                    | Month
                    | Quarter
                    | Year
                    | Decade
                    | Century
                    | Millennium
                    | Epoch
            ),
        }
    }

    /// The number of fractional digits of `extract`'s numeric for `unit`, as PostgreSQL prints it.
    fn scale(self, unit: Unit) -> i8 {
        match unit {
            Unit::Second => 6,
            Unit::Milliseconds => 3,
            Unit::Epoch if self != Self::Date => 6,
            _ => 0,
        }
    }
}

/// `extract` (a numeric) or `date_part` (a double precision), PostgreSQL's two spellings of one
/// function; `date_part` takes dates as timestamps, as PostgreSQL's does.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DatePart {
    signature: Signature,
    numeric: bool,
    aliases: Vec<String>,
}

impl DatePart {
    /// `extract` when `numeric`, registered as `pg_extract` (the planner calls it for `EXTRACT`);
    /// otherwise `date_part`, registered over DataFusion's function of that name and its alias.
    pub fn new(numeric: bool) -> Self {
        Self {
            signature: Signature::any(2, Volatility::Immutable),
            numeric,
            aliases: if numeric {
                vec![]
            } else {
                vec!["datepart".into()]
            },
        }
    }

    /// The field and value kind a call names, or PostgreSQL's error for them.
    fn resolve(&self, part: &str, data_type: &DataType) -> Result<(Unit, Source)> {
        let Some(source) = Source::of(data_type) else {
            return plan_err!(
                "function {}(unknown, {data_type}) does not exist",
                self.name()
            );
        };
        // date_part has no date variant in PostgreSQL: a date is read as midnight.
        let source = if !self.numeric && source == Source::Date {
            Source::Timestamp
        } else {
            source
        };
        let Some(unit) = Unit::parse(part) else {
            return Err(super::pg_error(
                ErrorKind::InvalidParameterValue,
                format!(
                    "unit \"{}\" not recognized for type {}",
                    part.trim().to_ascii_lowercase(),
                    source.sql_name()
                ),
            ));
        };
        if !source.supports(unit) {
            return Err(super::pg_error(
                ErrorKind::FeatureNotSupported,
                format!(
                    "unit \"{}\" not supported for type {}",
                    unit.name(),
                    source.sql_name()
                ),
            ));
        }
        Ok((unit, source))
    }

    fn output_type(&self, unit: Unit, source: Source) -> DataType {
        if self.numeric {
            DataType::Decimal128(38, source.scale(unit))
        } else {
            DataType::Float64
        }
    }
}

/// The constant field name of a call (`EXTRACT` always has one; `date_part` needs one too).
fn part_name(value: Option<&ScalarValue>) -> Option<String> {
    match value? {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) => Some(s.clone()),
        ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
        _ => None,
    }
}

impl ScalarUDFImpl for DatePart {
    fn name(&self) -> &str {
        if self.numeric {
            "pg_extract"
        } else {
            "date_part"
        }
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[datafusion::logical_expr::Expr]) -> Result<String> {
        Ok(if self.numeric {
            format!("extract({} FROM {})", args[0], args[1])
        } else {
            format!("date_part({}, {})", args[0], args[1])
        })
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("return_field_from_args is used instead")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let Some(part) = part_name(args.scalar_arguments[0]) else {
            return plan_err!("{}: the field must be a constant text", self.name());
        };
        let value = args.arg_fields[1].data_type();
        let nullable = args.arg_fields[1].is_nullable();
        let data_type = if value == &DataType::Null {
            self.output_type(Unit::parse(&part).unwrap_or(Unit::Year), Source::Timestamp)
        } else {
            let (unit, source) = self.resolve(&part, value)?;
            self.output_type(unit, source)
        };
        Ok(Arc::new(Field::new(self.name(), data_type, nullable)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ColumnarValue::Scalar(part) = &args.args[0] else {
            return plan_err!("{}: the field must be a constant text", self.name());
        };
        let part = part_name(Some(part)).unwrap_or_default();
        let output = args.return_field.data_type().clone();
        let value_type = args.args[1].data_type();
        if value_type == DataType::Null {
            return Ok(ColumnarValue::Scalar(ScalarValue::try_from(&output)?));
        }
        let (unit, source) = self.resolve(&part, &value_type)?;
        let scale = source.scale(unit);
        let numeric = self.numeric;
        let value_arg = ScalarFunctionArgs {
            args: vec![args.args[1].clone()],
            arg_fields: vec![args.arg_fields[1].clone()],
            number_rows: args.number_rows,
            return_field: args.return_field.clone(),
            config_options: args.config_options.clone(),
        };
        super::over_arrays(&value_arg, |arrays| {
            let fields = fields_of(&arrays[0], source, unit)?;
            Ok(if numeric {
                let mut out = Decimal128Builder::with_capacity(fields.len());
                for v in fields {
                    out.append_option(v.map(|f| f.scaled(scale)));
                }
                Arc::new(out.finish().with_data_type(output.clone())) as ArrayRef
            } else {
                let mut out = Float64Builder::with_capacity(fields.len());
                for v in fields {
                    out.append_option(v.map(Fraction::as_f64));
                }
                Arc::new(out.finish()) as ArrayRef
            })
        })
    }
}

/// A field's exact value: `units / 10^places` (seconds are microseconds over 10^6).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Fraction {
    units: i128,
    places: u32,
}

impl Fraction {
    fn whole(v: i64) -> Self {
        Self {
            units: v as i128,
            places: 0,
        }
    }

    fn micros(v: i128) -> Self {
        Self {
            units: v,
            places: 6,
        }
    }

    /// The value as a decimal of `scale` fractional digits (exact: every field has at most 6).
    fn scaled(self, scale: i8) -> i128 {
        let scale = scale as u32;
        if scale >= self.places {
            self.units * 10i128.pow(scale - self.places)
        } else {
            self.units / 10i128.pow(self.places - scale)
        }
    }

    fn as_f64(self) -> f64 {
        self.units as f64 / 10f64.powi(self.places as i32)
    }
}

/// The field of every row of `values`.
fn fields_of(values: &ArrayRef, source: Source, unit: Unit) -> Result<Vec<Option<Fraction>>> {
    match source {
        Source::Interval => {
            let spans = cast(values, &DataType::Interval(IntervalUnit::MonthDayNano))?;
            let spans: &IntervalMonthDayNanoArray = spans.as_primitive();
            Ok(spans
                .iter()
                .map(|s| s.map(|s| interval_field(s.months, s.days, s.nanoseconds / 1000, unit)))
                .collect())
        }
        Source::Time => {
            let times = cast(values, &DataType::Time64(TimeUnit::Microsecond))?;
            Ok(times
                .as_primitive::<Time64MicrosecondType>()
                .iter()
                .map(|t| t.map(|us| time_field(us, unit)))
                .collect())
        }
        Source::Date | Source::Timestamp | Source::TimestampTz => {
            let zone = match values.data_type() {
                DataType::Timestamp(_, Some(tz)) => Some(tz.parse::<Tz>()?),
                _ => None,
            };
            let stamps = cast(values, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
            let mut out = Vec::with_capacity(stamps.len());
            for us in stamps.as_primitive::<TimestampMicrosecondType>().iter() {
                out.push(match us {
                    Some(us) => Some(stamp_field(us, zone.as_ref(), source, unit)?),
                    None => None,
                });
            }
            Ok(out)
        }
    }
}

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// A field of a time of day given in microseconds since midnight.
fn time_field(us: i64, unit: Unit) -> Fraction {
    let seconds_part = us % (60 * MICROS_PER_SECOND);
    match unit {
        Unit::Hour => Fraction::whole(us / (3600 * MICROS_PER_SECOND)),
        Unit::Minute => Fraction::whole(us / (60 * MICROS_PER_SECOND) % 60),
        Unit::Epoch => Fraction::micros(us as i128),
        other => seconds_field(seconds_part, other),
    }
}

/// Seconds, milliseconds or microseconds of the seconds-and-fraction part of a value.
fn seconds_field(us: i64, unit: Unit) -> Fraction {
    match unit {
        Unit::Microseconds => Fraction::whole(us),
        Unit::Milliseconds => Fraction {
            units: us as i128,
            places: 3,
        },
        _ => Fraction::micros(us as i128),
    }
}

/// A field of an interval of `months`, `days` and `us` microseconds, as PostgreSQL's
/// `interval_part`: the time part is not carried into days, nor days into months.
fn interval_field(months: i32, days: i32, us: i64, unit: Unit) -> Fraction {
    let years = (months / 12) as i64;
    match unit {
        Unit::Microseconds | Unit::Milliseconds | Unit::Second => {
            seconds_field(us % (60 * MICROS_PER_SECOND), unit)
        }
        Unit::Minute => Fraction::whole(us / (60 * MICROS_PER_SECOND) % 60),
        Unit::Hour => Fraction::whole(us / (3600 * MICROS_PER_SECOND)),
        Unit::Day => Fraction::whole(days as i64),
        Unit::Month => Fraction::whole((months % 12) as i64),
        Unit::Quarter => Fraction::whole((months % 12 / 3 + 1) as i64),
        Unit::Year => Fraction::whole(years),
        Unit::Decade => Fraction::whole(years / 10),
        Unit::Century => Fraction::whole(years / 100),
        Unit::Millennium => Fraction::whole(years / 1000),
        // 365.25 days a year and 30 a month, in microseconds.
        _ => {
            let year_us = years as i128 * (36525 * MICROS_PER_DAY as i128 / 100);
            let month_us = (months % 12) as i128 * 30 * MICROS_PER_DAY as i128;
            Fraction::micros(
                year_us + month_us + days as i128 * MICROS_PER_DAY as i128 + us as i128,
            )
        }
    }
}

/// A field of a date or timestamp given in microseconds since 1970 (UTC for a zoned one, whose
/// calendar fields are read in its zone).
fn stamp_field(us: i64, zone: Option<&Tz>, source: Source, unit: Unit) -> Result<Fraction> {
    let instant = DateTime::<Utc>::from_timestamp_micros(us).ok_or_else(|| {
        super::pg_error(ErrorKind::DatetimeFieldOverflow, "timestamp out of range")
    })?;
    let (local, offset_seconds): (NaiveDateTime, i64) = match zone {
        Some(tz) => {
            let zoned = tz.from_utc_datetime(&instant.naive_utc());
            (
                zoned.naive_local(),
                zoned.offset().fix().local_minus_utc() as i64,
            )
        }
        None => (instant.naive_utc(), 0),
    };
    let date = local.date();
    let year = date.year() as i64;
    let micros_of_day = local.num_seconds_from_midnight() as i64 * MICROS_PER_SECOND
        + (local.nanosecond() / 1000) as i64;
    Ok(match unit {
        Unit::Microseconds | Unit::Milliseconds | Unit::Second | Unit::Minute | Unit::Hour => {
            time_field(micros_of_day, unit)
        }
        Unit::Day => Fraction::whole(date.day() as i64),
        Unit::Week => Fraction::whole(date.iso_week().week() as i64),
        Unit::Month => Fraction::whole(date.month() as i64),
        Unit::Quarter => Fraction::whole((date.month0() / 3 + 1) as i64),
        Unit::Year => Fraction::whole(if year > 0 { year } else { year - 1 }),
        Unit::Decade => Fraction::whole(if year > 0 {
            year / 10
        } else {
            -((8 - year) / 10)
        }),
        Unit::Century => Fraction::whole(if year > 0 {
            (year + 99) / 100
        } else {
            -((99 - (year - 1)) / 100)
        }),
        Unit::Millennium => Fraction::whole(if year > 0 {
            (year + 999) / 1000
        } else {
            -((999 - (year - 1)) / 1000)
        }),
        Unit::Epoch => {
            if source == Source::Date {
                Fraction::whole(us.div_euclid(MICROS_PER_SECOND))
            } else {
                Fraction::micros(us as i128)
            }
        }
        Unit::Dow => Fraction::whole(date.weekday().num_days_from_sunday() as i64),
        Unit::IsoDow => Fraction::whole(date.weekday().number_from_monday() as i64),
        Unit::Doy => Fraction::whole(date.ordinal() as i64),
        Unit::IsoYear => Fraction::whole(date.iso_week().year() as i64),
        Unit::Julian => Fraction::whole(julian_day(date)),
        Unit::Timezone => Fraction::whole(offset_seconds),
        Unit::TimezoneHour => Fraction::whole(offset_seconds / 3600),
        Unit::TimezoneMinute => Fraction::whole(offset_seconds / 60 % 60),
    })
}

/// The Julian day number PostgreSQL counts (`date2j`): 2440588 is 1970-01-01.
fn julian_day(date: NaiveDate) -> i64 {
    const UNIX_EPOCH_JULIAN: i64 = 2_440_588;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    UNIX_EPOCH_JULIAN + (date - epoch).num_days()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(text: &str) -> i64 {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
            .unwrap()
            .and_utc()
            .timestamp_micros()
    }

    #[test]
    fn fields_of_a_timestamp_match_postgres() {
        let us = stamp("2024-03-07 10:00:01.5");
        let field = |u| stamp_field(us, None, Source::Timestamp, u).unwrap();
        assert_eq!(field(Unit::Second).scaled(6), 1_500_000);
        assert_eq!(field(Unit::Milliseconds).scaled(3), 1_500_000);
        assert_eq!(field(Unit::Microseconds).scaled(0), 1_500_000);
        assert_eq!(field(Unit::Century).scaled(0), 21);
        assert_eq!(field(Unit::Decade).scaled(0), 202);
        assert_eq!(field(Unit::Millennium).scaled(0), 3);
        assert_eq!(field(Unit::Dow).scaled(0), 4);
        let date = stamp("2024-03-07 00:00:00");
        assert_eq!(
            stamp_field(date, None, Source::Date, Unit::Julian).unwrap(),
            Fraction::whole(2_460_377)
        );
    }

    #[test]
    fn fields_of_an_interval_match_postgres() {
        // interval '1 year 1 mon 1.5 sec': epoch 34149601.500000
        assert_eq!(
            interval_field(13, 0, 1_500_000, Unit::Epoch).scaled(6),
            34_149_601_500_000
        );
        // interval '-27 minutes 5 seconds': minute -26
        assert_eq!(
            interval_field(0, 0, -1_615_000_000, Unit::Minute),
            Fraction::whole(-26)
        );
        assert_eq!(interval_field(5, 0, 0, Unit::Quarter), Fraction::whole(2));
    }
}
