//! PostgreSQL's ordered-set aggregates DataFusion lacks: `percentile_disc(f) WITHIN GROUP
//! (ORDER BY x)` and `mode() WITHIN GROUP (ORDER BY x)`. The dialect plans each as a function of
//! this module over `array_agg(x ORDER BY ...)` (the group's values in the order asked for, so
//! the aggregate's FILTER, GROUP BY and memory accounting are array_agg's):
//! - `percentile_disc`: the first value whose position in the ordered non-NULL values reaches
//!   `f` of their count (`f` = 0 is the first value); a fraction outside [0, 1] or NULL is
//!   22003 / NULL as in PostgreSQL;
//! - `mode`: the most frequent non-NULL value, the first in the order on a tie.
//!
//! No values (or only NULLs) give NULL.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::ErrorKind;

/// The name `percentile_disc(...) WITHIN GROUP (...)` is planned with.
pub const PERCENTILE_DISC: &str = "pg_percentile_disc";
/// The name `mode() WITHIN GROUP (...)` is planned with.
pub const MODE: &str = "pg_mode";

/// Which aggregate's final step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    PercentileDisc,
    Mode,
}

/// The final step of `percentile_disc` or `mode` over the ordered values (see the header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct OrderedSetPick {
    kind: Kind,
    signature: Signature,
}

/// The functions of this module.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(OrderedSetPick {
            kind: Kind::PercentileDisc,
            signature: Signature::any(2, Volatility::Immutable),
        }),
        ScalarUDF::from(OrderedSetPick {
            kind: Kind::Mode,
            signature: Signature::any(1, Volatility::Immutable),
        }),
    ]
}

impl ScalarUDFImpl for OrderedSetPick {
    fn name(&self) -> &str {
        match self.kind {
            Kind::PercentileDisc => PERCENTILE_DISC,
            Kind::Mode => MODE,
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        match (super::list_element(&args[0]), &args[0]) {
            (Some(element), _) => Ok(element.clone()),
            (None, DataType::Null) => Ok(DataType::Null),
            (None, other) => Err(datafusion::error::DataFusionError::Plan(format!(
                "{} takes a list, not {other}",
                self.name()
            ))),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let element = args.return_field.data_type().clone();
        super::over_arrays(&args, |arrays| {
            let lists = match arrays[0].data_type() {
                DataType::Null => {
                    return ScalarValue::try_from(&element)?.to_array_of_size(arrays[0].len());
                }
                _ => datafusion::arrow::compute::cast(
                    &arrays[0],
                    &DataType::LargeList(Arc::new(
                        datafusion::arrow::datatypes::Field::new_list_field(element.clone(), true),
                    )),
                )?,
            };
            let lists = lists.as_list::<i64>();
            let fractions = match self.kind {
                Kind::PercentileDisc => Some(datafusion::arrow::compute::cast(
                    &arrays[1],
                    &DataType::Float64,
                )?),
                Kind::Mode => None,
            };
            let mut picked: Vec<ScalarValue> = Vec::with_capacity(lists.len());
            for row in 0..lists.len() {
                let values: Option<ArrayRef> = (!lists.is_null(row)).then(|| lists.value(row));
                let pick = match (self.kind, values) {
                    (_, None) => None,
                    (Kind::PercentileDisc, Some(values)) => {
                        let fractions = fractions.as_ref().expect("percentile_disc's fraction");
                        let fractions =
                            fractions.as_primitive::<datafusion::arrow::datatypes::Float64Type>();
                        if fractions.is_null(row) {
                            None
                        } else {
                            let fraction = fractions.value(row);
                            if !(0.0..=1.0).contains(&fraction) {
                                return Err(super::pg_error(
                                    ErrorKind::NumericValueOutOfRange,
                                    format!("percentile value {fraction} is not between 0 and 1"),
                                ));
                            }
                            percentile_index(&values, fraction)
                                .map(|i| ScalarValue::try_from_array(&values, i))
                                .transpose()?
                        }
                    }
                    (Kind::Mode, Some(values)) => mode_index(&values)
                        .map(|i| ScalarValue::try_from_array(&values, i))
                        .transpose()?,
                };
                picked.push(match pick {
                    Some(value) => value,
                    None => ScalarValue::try_from(&element)?,
                });
            }
            if picked.is_empty() {
                return Ok(datafusion::arrow::array::new_empty_array(&element));
            }
            ScalarValue::iter_to_array(picked)
        })
    }
}

/// The position of PostgreSQL's discrete percentile among the non-NULL `values` (in order).
fn percentile_index(values: &ArrayRef, fraction: f64) -> Option<usize> {
    let present: Vec<usize> = (0..values.len()).filter(|&i| values.is_valid(i)).collect();
    if present.is_empty() {
        return None;
    }
    // PostgreSQL: the first row whose position (1-based) is at least fraction * count.
    let rank = (fraction * present.len() as f64).ceil().max(1.0) as usize;
    present.get(rank.min(present.len()) - 1).copied()
}

/// The position of the first value of the longest run of equal non-NULL `values` (in order).
fn mode_index(values: &ArrayRef) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    let mut run: Option<(usize, usize)> = None;
    let mut previous: Option<ScalarValue> = None;
    for i in (0..values.len()).filter(|&i| values.is_valid(i)) {
        let value = ScalarValue::try_from_array(values, i).ok()?;
        run = match (run, previous.as_ref()) {
            (Some((start, n)), Some(p)) if *p == value => Some((start, n + 1)),
            _ => Some((i, 1)),
        };
        if let Some((start, n)) = run
            && best.is_none_or(|(_, m)| n > m)
        {
            best = Some((start, n));
        }
        previous = Some(value);
    }
    best.map(|(start, _)| start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int32Array;

    #[test]
    fn picks_as_postgresql() {
        let values: ArrayRef = Arc::new(Int32Array::from(vec![
            Some(1),
            Some(2),
            Some(2),
            Some(3),
            Some(3),
            None,
        ]));
        assert_eq!(percentile_index(&values, 0.0), Some(0));
        assert_eq!(percentile_index(&values, 0.5), Some(2));
        assert_eq!(percentile_index(&values, 1.0), Some(4));
        assert_eq!(mode_index(&values), Some(1));
        let empty: ArrayRef = Arc::new(Int32Array::from(vec![None::<i32>]));
        assert_eq!(percentile_index(&empty, 0.5), None);
        assert_eq!(mode_index(&empty), None);
    }
}
