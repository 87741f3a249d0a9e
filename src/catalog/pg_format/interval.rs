//! `to_char(interval, text)`: PostgreSQL 15's `interval_to_char` for the fields an interval has
//! (years, months, days, hours past 24, minutes, seconds, fractions; `DDD` the whole span in
//! 30-day months, AM/PM of the hour), each negative when the interval is. Fields that belong
//! to calendar dates (AD/BC, day and month names, `D`, `ID`, time zones) are 22007 as there;
//! `CC`, `Y,YYY`..`Y`, `Q`, `W`, `WW`, `RM` and the ISO-week and Julian fields (PostgreSQL
//! formats them from a made-up date) are refused (0A000) rather than guessed.

use super::datetime::{DateTimeTemplate, Dk, meridiem};
use super::{Node, SUF_FM, SUF_TH_LOWER, SUF_TH_UPPER, ordinal_suffix};

/// Why an interval could not be formatted.
#[derive(Debug, PartialEq, Eq)]
pub enum IntervalFormatError {
    /// A calendar-date field PostgreSQL refuses for intervals (22007).
    InvalidForInterval,
    /// A field deltagres does not format for intervals yet (0A000).
    NotSupported(&'static str),
    /// Any other error of the template (its message).
    Other(String),
}

/// An interval split as PostgreSQL's `interval2itm` splits it.
struct IntervalTm {
    year: i64,
    mon: i64,
    mday: i64,
    hour: i64,
    min: i64,
    sec: i64,
    /// Microseconds.
    fsec: i64,
}

impl IntervalTm {
    fn of(months: i32, days: i32, nanos: i64) -> Self {
        let micros = nanos / 1000;
        let hour = micros / 3_600_000_000;
        let rest = micros - hour * 3_600_000_000;
        let min = rest / 60_000_000;
        let rest = rest - min * 60_000_000;
        let sec = rest / 1_000_000;
        Self {
            year: i64::from(months / 12),
            mon: i64::from(months % 12),
            mday: i64::from(days),
            hour,
            min,
            sec,
            fsec: rest - sec * 1_000_000,
        }
    }
}

impl DateTimeTemplate {
    /// `to_char(interval, pattern)` of an interval of `months`, `days` and `nanos`.
    pub fn format_interval(
        &self,
        months: i32,
        days: i32,
        nanos: i64,
    ) -> Result<String, IntervalFormatError> {
        let tm = IntervalTm::of(months, days, nanos);
        let mut out = String::new();
        for node in &self.nodes {
            let (kw, suffix) = match node {
                Node::Literal { text, .. } => {
                    out.push_str(text);
                    continue;
                }
                Node::Action { kw, suffix } => (kw, *suffix),
            };
            let fm = suffix & SUF_FM != 0;
            // "%0*d": two digits (three with a minus sign), none under FM.
            let num = |v: i64| {
                if fm {
                    v.to_string()
                } else if v >= 0 {
                    format!("{v:02}")
                } else {
                    format!("{v:03}")
                }
            };
            let s = match kw.key {
                Dk::Meridiem { dots, upper } => meridiem(dots, upper, tm.hour % 24 >= 12),
                Dk::MonthName(_)
                | Dk::MonthAbbr(_)
                | Dk::Era { .. }
                | Dk::Tz { .. }
                | Dk::Tzh
                | Dk::Tzm
                | Dk::Of
                | Dk::DayName(_)
                | Dk::DayAbbr(_)
                | Dk::D
                | Dk::Id => return Err(IntervalFormatError::InvalidForInterval),
                Dk::Hh | Dk::Hh12 => num(if tm.hour % 12 == 0 { 12 } else { tm.hour % 12 }),
                Dk::Hh24 => num(tm.hour),
                Dk::Mi => num(tm.min),
                Dk::Ss => num(tm.sec),
                Dk::Ms => format!("{:03}", tm.fsec / 1000),
                Dk::Us => format!("{:06}", tm.fsec),
                Dk::Ff(digits) => {
                    let d = usize::from(digits);
                    format!("{:0d$}", tm.fsec / 10_i64.pow(6 - u32::from(digits)))
                }
                Dk::Ssss => (tm.hour * 3600 + tm.min * 60 + tm.sec).to_string(),
                // "%02d": the sign inside the two places.
                Dk::Dd if fm => tm.mday.to_string(),
                Dk::Dd => format!("{:02}", tm.mday),
                Dk::Ddd => {
                    let yday = (tm.year * 12 + tm.mon) * 30 + tm.mday;
                    if fm {
                        yday.to_string()
                    } else {
                        format!("{yday:03}")
                    }
                }
                Dk::Mm => num(tm.mon),
                Dk::Yyyy if fm => tm.year.to_string(),
                Dk::Yyyy if tm.year >= 0 => format!("{:04}", tm.year),
                Dk::Yyyy => format!("{:05}", tm.year),
                Dk::Fx => String::new(),
                Dk::Cc => return Err(IntervalFormatError::NotSupported("CC")),
                Dk::YComma | Dk::Yyy | Dk::Yy | Dk::Y => {
                    return Err(IntervalFormatError::NotSupported("Y,YYY / YYY / YY / Y"));
                }
                Dk::Rm { .. } => return Err(IntervalFormatError::NotSupported("RM")),
                Dk::Q | Dk::W | Dk::Ww => {
                    return Err(IntervalFormatError::NotSupported("Q / W / WW"));
                }
                Dk::Iddd | Dk::Iw | Dk::Iyyy | Dk::Iyy | Dk::Iy | Dk::I | Dk::J => {
                    return Err(IntervalFormatError::NotSupported(
                        "ISO week and Julian fields",
                    ));
                }
            };
            out.push_str(&s);
            if suffix & (SUF_TH_UPPER | SUF_TH_LOWER) != 0 {
                out.push_str(
                    ordinal_suffix(&s, suffix & SUF_TH_UPPER != 0)
                        .map_err(IntervalFormatError::Other)?,
                );
            }
        }
        Ok(out)
    }
}
