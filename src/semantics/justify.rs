//! `justify_hours`, `justify_days` and `justify_interval`: PostgreSQL's normalizations of an
//! interval (24 hours make a day, 30 days a month), with its rules for mixed signs.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, IntervalMonthDayNanoArray};
use datafusion::arrow::datatypes::{
    DataType, IntervalMonthDayNano, IntervalMonthDayNanoType, IntervalUnit,
};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

const INTERVAL: DataType = DataType::Interval(IntervalUnit::MonthDayNano);
const NANOS_PER_DAY: i64 = 86_400_000_000_000;
const DAYS_PER_MONTH: i32 = 30;

/// Which of the three normalizations a function applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Justify {
    /// `justify_hours`: whole days out of the time part.
    Hours,
    /// `justify_days`: whole months out of the days.
    Days,
    /// `justify_interval`: both, with one sign throughout.
    Interval,
}

/// One of the functions, registered under its PostgreSQL name.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JustifyInterval {
    signature: Signature,
    kind: Justify,
}

impl JustifyInterval {
    /// The function for `kind`.
    pub fn new(kind: Justify) -> Self {
        Self {
            signature: Signature::exact(vec![INTERVAL], Volatility::Immutable),
            kind,
        }
    }
}

impl ScalarUDFImpl for JustifyInterval {
    fn name(&self) -> &str {
        match self.kind {
            Justify::Hours => "justify_hours",
            Justify::Days => "justify_days",
            Justify::Interval => "justify_interval",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(INTERVAL)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let kind = self.kind;
        super::over_arrays(&args, |arrays| {
            let out: IntervalMonthDayNanoArray = arrays[0]
                .as_primitive::<IntervalMonthDayNanoType>()
                .unary(|v| justify(v, kind));
            Ok(Arc::new(out) as ArrayRef)
        })
    }
}

/// PostgreSQL's `interval_justify_hours` / `_days` / `_interval` on one value (C's truncating
/// division and remainder, as there).
fn justify(v: IntervalMonthDayNano, kind: Justify) -> IntervalMonthDayNano {
    let IntervalMonthDayNano {
        mut months,
        mut days,
        mut nanoseconds,
    } = v;
    let days_into_months = |months: &mut i32, days: &mut i32| {
        *months = months.saturating_add(*days / DAYS_PER_MONTH);
        *days %= DAYS_PER_MONTH;
    };
    let time_into_days = |days: &mut i32, nanoseconds: &mut i64| {
        *days = days.saturating_add((*nanoseconds / NANOS_PER_DAY) as i32);
        *nanoseconds %= NANOS_PER_DAY;
    };
    let balance_time = |days: &mut i32, nanoseconds: &mut i64| {
        if *days > 0 && *nanoseconds < 0 {
            *nanoseconds += NANOS_PER_DAY;
            *days -= 1;
        } else if *days < 0 && *nanoseconds > 0 {
            *nanoseconds -= NANOS_PER_DAY;
            *days += 1;
        }
    };
    match kind {
        Justify::Hours => {
            time_into_days(&mut days, &mut nanoseconds);
            balance_time(&mut days, &mut nanoseconds);
        }
        Justify::Days => {
            days_into_months(&mut months, &mut days);
            if months > 0 && days < 0 {
                days += DAYS_PER_MONTH;
                months -= 1;
            } else if months < 0 && days > 0 {
                days -= DAYS_PER_MONTH;
                months += 1;
            }
        }
        Justify::Interval => {
            if days > 0 && nanoseconds > 0 || days < 0 && nanoseconds < 0 {
                days_into_months(&mut months, &mut days);
            }
            time_into_days(&mut days, &mut nanoseconds);
            days_into_months(&mut months, &mut days);
            if months > 0 && (days < 0 || days == 0 && nanoseconds < 0) {
                days += DAYS_PER_MONTH;
                months -= 1;
            } else if months < 0 && (days > 0 || days == 0 && nanoseconds > 0) {
                days -= DAYS_PER_MONTH;
                months += 1;
            }
            balance_time(&mut days, &mut nanoseconds);
        }
    }
    IntervalMonthDayNano {
        months,
        days,
        nanoseconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(months: i32, days: i32, hours: i64) -> IntervalMonthDayNano {
        IntervalMonthDayNano {
            months,
            days,
            nanoseconds: hours * 3_600_000_000_000,
        }
    }

    #[test]
    fn justifies_as_postgres() {
        assert_eq!(justify(iv(0, 0, 27), Justify::Hours), iv(0, 1, 3));
        assert_eq!(justify(iv(0, 35, 0), Justify::Days), iv(1, 5, 0));
        // justify_interval('1 mon -1 hour') = 29 days 23:00:00
        assert_eq!(justify(iv(1, 0, -1), Justify::Interval), iv(0, 29, 23));
        assert_eq!(justify(iv(0, 1, -27), Justify::Hours), iv(0, 0, -3));
    }
}
