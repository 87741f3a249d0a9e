//! `x op ANY (array)` and `x op ALL (array)` with PostgreSQL's NULLs. DataFusion plans
//! `x = ANY(arr)` as `array_has`, which answers false where PostgreSQL answers NULL
//! (`3 = ANY(ARRAY[1, NULL])`; so `NOT (3 = ANY(...))` kept rows PostgreSQL drops), and
//! `x > ANY(arr)` by the array's minimum, which skips NULL elements; an array written as text
//! (`x = ANY('{a,"b c"}')`) it refused, or the catalog rewrites split on commas.
//!
//! [`PgQuantified`] compares `x` with each element: ANY is true when one comparison is true,
//! else NULL when one is NULL, else false (an empty array: false); ALL is false when one is
//! false, else NULL when one is NULL, else true (empty: true); a NULL array is NULL. An array
//! text is read by PostgreSQL's array input (`semantics::array_in`) as an array of `x`'s type.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanBuilder, Datum, Scalar};
use datafusion::arrow::compute::kernels::cmp;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::ErrorKind;

/// ANY (SOME) or ALL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// True when the comparison holds for some element.
    Any,
    /// True when the comparison holds for every element.
    All,
}

/// `pg_any(op, array, x)` / `pg_all(op, array, x)`; see the module header. `op` is one of
/// `=`, `<>`, `<`, `<=`, `>`, `>=`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgQuantified {
    quantifier: Quantifier,
    signature: Signature,
}

impl PgQuantified {
    /// The function for `quantifier`.
    pub fn new(quantifier: Quantifier) -> Self {
        Self {
            quantifier,
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }

    /// The function's name for `quantifier` (what the dialect calls).
    pub fn name_of(quantifier: Quantifier) -> &'static str {
        match quantifier {
            Quantifier::Any => "pg_any",
            Quantifier::All => "pg_all",
        }
    }
}

impl ScalarUDFImpl for PgQuantified {
    fn name(&self) -> &str {
        Self::name_of(self.quantifier)
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    /// The array's elements and `x` meet in one type (DataFusion's comparison coercion); an
    /// array text stays text and is read as an array of `x`'s type.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [op, array, x] = arg_types else {
            return Err(super::pg_error(
                ErrorKind::UndefinedFunction,
                "ANY / ALL take an operator, an array and a value",
            ));
        };
        if array.is_string() || array == &DataType::Null {
            let x = if x == &DataType::Null {
                DataType::Utf8
            } else {
                x.clone()
            };
            return Ok(vec![op.clone(), DataType::Utf8, x]);
        }
        let Some(element) = super::list_element(array) else {
            return Err(super::pg_error(
                ErrorKind::UndefinedFunction,
                format!("op ANY/ALL (array) requires an array on the right, not {array}"),
            ));
        };
        let common =
            datafusion::logical_expr::type_coercion::binary::comparison_coercion(element, x)
                .ok_or_else(|| {
                    super::pg_error(
                        ErrorKind::UndefinedFunction,
                        format!("operator does not exist: {x} = ANY ({array})"),
                    )
                })?;
        let list = DataType::List(Arc::new(Field::new_list_field(common.clone(), true)));
        Ok(vec![op.clone(), list, common])
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let quantifier = self.quantifier;
        super::over_arrays(&args, |arrays| {
            let ops = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let ops = ops.as_string::<i32>();
            let x = &arrays[2];
            let list_type =
                DataType::List(Arc::new(Field::new_list_field(x.data_type().clone(), true)));
            let lists = if arrays[1].data_type().is_string() {
                let text = datafusion::arrow::compute::cast(&arrays[1], &DataType::Utf8)?;
                super::array_in(text.as_string::<i32>(), &list_type)?
            } else {
                datafusion::arrow::compute::cast(&arrays[1], &list_type)?
            };
            let lists = lists.as_list::<i32>();
            let mut out = BooleanBuilder::with_capacity(x.len());
            for row in 0..x.len() {
                if lists.is_null(row) || ops.is_null(row) {
                    out.append_null();
                    continue;
                }
                let elements = lists.value(row);
                let outcome = compare(ops.value(row), &elements, &Scalar::new(x.slice(row, 1)))?;
                out.append_option(decide(quantifier, &outcome));
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// `x op e` for every element `e`.
fn compare(
    op: &str,
    elements: &ArrayRef,
    x: &dyn Datum,
) -> Result<datafusion::arrow::array::BooleanArray> {
    let elements: &dyn Datum = elements;
    // x op e, written with e on the left: the operator mirrored.
    Ok(match op {
        "=" => cmp::eq(elements, x)?,
        "<>" | "!=" => cmp::neq(elements, x)?,
        "<" => cmp::gt(elements, x)?,
        "<=" => cmp::gt_eq(elements, x)?,
        ">" => cmp::lt(elements, x)?,
        ">=" => cmp::lt_eq(elements, x)?,
        other => {
            return Err(super::pg_error(
                ErrorKind::FeatureNotSupported,
                format!("the operator {other} with ANY / ALL is not supported"),
            ));
        }
    })
}

/// PostgreSQL's answer from the element comparisons (NULL where one is NULL and none decides).
fn decide(
    quantifier: Quantifier,
    outcome: &datafusion::arrow::array::BooleanArray,
) -> Option<bool> {
    let decisive = match quantifier {
        Quantifier::Any => true,
        Quantifier::All => false,
    };
    if outcome.iter().any(|v| v == Some(decisive)) {
        return Some(decisive);
    }
    if outcome.null_count() > 0 {
        return None;
    }
    Some(!decisive)
}

/// Whether `name` is the function a quantified comparison (`x op ANY/ALL (array)`) is planned
/// as (its arguments: the operator, the array, `x`).
pub fn is_quantified_comparison(name: &str) -> bool {
    name == PgQuantified::name_of(Quantifier::Any) || name == PgQuantified::name_of(Quantifier::All)
}

/// `expr` with each quantified comparison over a constant array written as the comparisons it
/// stands for: `x = ANY (ARRAY[1, 2])` as `x IN (1, 2)`, `x <> ALL (...)` as `x NOT IN (...)`,
/// other operators as an OR (ANY) or AND (ALL) of comparisons; the same answers, NULLs
/// included (`IN` is PostgreSQL's `= ANY`). Why: delta-rs writes a write's condition back as
/// SQL and has no text for an array constant (`DELETE ... WHERE id = ANY (ARRAY[2, 3])`, the
/// form drivers send a list parameter in, failed with XX000).
pub fn expand_over_constants(
    expr: datafusion::logical_expr::Expr,
) -> Result<datafusion::logical_expr::Expr> {
    use datafusion::common::ScalarValue;
    use datafusion::common::tree_node::{Transformed, TreeNode};
    use datafusion::logical_expr::{Expr, Operator, binary_expr, lit};
    expr.transform_up(|e| {
        let Expr::ScalarFunction(f) = &e else {
            return Ok(Transformed::no(e));
        };
        let quantifier = match f.func.name() {
            n if n == PgQuantified::name_of(Quantifier::Any) => Quantifier::Any,
            n if n == PgQuantified::name_of(Quantifier::All) => Quantifier::All,
            _ => return Ok(Transformed::no(e)),
        };
        let [
            Expr::Literal(ScalarValue::Utf8(Some(op)), _),
            Expr::Literal(ScalarValue::List(array), _),
            x,
        ] = f.args.as_slice()
        else {
            return Ok(Transformed::no(e));
        };
        let op = match op.as_str() {
            "=" => Operator::Eq,
            "<>" => Operator::NotEq,
            "<" => Operator::Lt,
            "<=" => Operator::LtEq,
            ">" => Operator::Gt,
            ">=" => Operator::GtEq,
            _ => return Ok(Transformed::no(e)),
        };
        if array.is_null(0) {
            return Ok(Transformed::yes(lit(ScalarValue::Boolean(None))));
        }
        let values = array.value(0);
        let constants = (0..values.len())
            .map(|i| ScalarValue::try_from_array(&values, i).map(lit))
            .collect::<Result<Vec<Expr>>>()?;
        if constants.is_empty() {
            return Ok(Transformed::yes(lit(quantifier == Quantifier::All)));
        }
        let expanded = match (quantifier, op) {
            (Quantifier::Any, Operator::Eq) => x.clone().in_list(constants, false),
            (Quantifier::All, Operator::NotEq) => x.clone().in_list(constants, true),
            _ => {
                let comparisons = constants.into_iter().map(|c| binary_expr(x.clone(), op, c));
                match quantifier {
                    Quantifier::Any => comparisons.reduce(Expr::or),
                    Quantifier::All => comparisons.reduce(Expr::and),
                }
                .unwrap_or_else(|| lit(quantifier == Quantifier::All))
            }
        };
        Ok(Transformed::yes(expanded))
    })
    .map(|t| t.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::BooleanArray;

    #[test]
    fn nulls_decide_as_in_postgresql() {
        let some = BooleanArray::from(vec![Some(false), None]);
        assert_eq!(decide(Quantifier::Any, &some), None);
        assert_eq!(decide(Quantifier::All, &some), Some(false));
        let empty = BooleanArray::from(Vec::<Option<bool>>::new());
        assert_eq!(decide(Quantifier::Any, &empty), Some(false));
        assert_eq!(decide(Quantifier::All, &empty), Some(true));
        let hit = BooleanArray::from(vec![None, Some(true)]);
        assert_eq!(decide(Quantifier::Any, &hit), Some(true));
        assert_eq!(decide(Quantifier::All, &hit), None);
    }
}
