//! Dates given where PostgreSQL has only a `timestamptz` form: `generate_series(start, stop,
//! step)` and `date_trunc(field, d)`. PostgreSQL has no date version of either and casts the
//! date to a `timestamptz` (midnight in the session's zone), so the answer is a `timestamptz`.
//! DataFusion kept the dates: its `generate_series` of dates in a select list listed dates and
//! refused a step under a day (22000), in FROM it listed zoneless timestamps, and `date_trunc`
//! of a date was a zoneless timestamp. Both forms here cast the dates first.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::logical_expr::expr::{Cast, ScalarFunction};
use datafusion::logical_expr::{Expr, ExprSchemable};

/// The `timestamptz` type of a session in `time_zone` (as the SQL planner types `timestamptz`).
fn instant_type(time_zone: Option<&str>) -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, time_zone.map(Arc::from))
}

fn is_date(data_type: &DataType) -> bool {
    matches!(data_type, DataType::Date32 | DataType::Date64)
}

/// `generate_series(date, date, interval)` or `date_trunc(field, date)` in a plan, with the
/// dates cast to `timestamptz`; `None` for any other call.
pub(super) fn cast_dates(
    function: &ScalarFunction,
    schema: &DFSchema,
    time_zone: Option<&str>,
) -> Option<Expr> {
    let positions: &[usize] = match (function.name(), function.args.len()) {
        ("generate_series", 3) => &[0, 1],
        ("date_trunc", 2) => &[1],
        _ => return None,
    };
    let mut args = function.args.clone();
    let mut changed = false;
    for &i in positions {
        // Type coercion may already have cast the date to a zoneless timestamp.
        let date = match &args[i] {
            Expr::Cast(Cast { expr, field })
                if matches!(field.data_type(), DataType::Timestamp(_, None))
                    && expr.get_type(schema).is_ok_and(|t| is_date(&t)) =>
            {
                expr.as_ref().clone()
            }
            other if other.get_type(schema).is_ok_and(|t| is_date(&t)) => other.clone(),
            _ => continue,
        };
        args[i] = Expr::Cast(Cast::new(Box::new(date), instant_type(time_zone)));
        changed = true;
    }
    changed.then(|| Expr::ScalarFunction(ScalarFunction::new_udf(function.func.clone(), args)))
}

/// `FROM generate_series(...)`: DataFusion's table function, given dates as `timestamptz`
/// values.
#[derive(Debug)]
pub struct GenerateSeriesOfInstants {
    inner: Arc<dyn TableFunctionImpl>,
}

impl GenerateSeriesOfInstants {
    /// Wraps DataFusion's `generate_series` table function.
    pub fn new(inner: Arc<dyn TableFunctionImpl>) -> Self {
        Self { inner }
    }
}

impl TableFunctionImpl for GenerateSeriesOfInstants {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let dates = exprs.len() == 3
            && matches!(&exprs[0], Expr::Literal(value, _) if is_date(&value.data_type()));
        if !dates {
            return self.inner.call_with_args(args);
        }
        let time_zone = args.session().config_options().execution.time_zone.clone();
        let instant = instant_type(time_zone.as_deref());
        let mut cast = exprs.to_vec();
        for expr in cast.iter_mut().take(2) {
            if let Expr::Literal(value, metadata) = expr {
                let value = if value.is_null() {
                    ScalarValue::try_from(&instant)?
                } else {
                    value.cast_to(&instant)?
                };
                *expr = Expr::Literal(value, metadata.clone());
            }
        }
        self.inner
            .call_with_args(TableFunctionArgs::new(&cast, args.session()))
    }
}
