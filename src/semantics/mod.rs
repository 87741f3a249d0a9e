//! PostgreSQL's value semantics on DataFusion plans.
//!
//! DataFusion's arithmetic wraps on integer overflow, truncates when casting to an integer,
//! turns float division by zero into infinity, cannot multiply an interval and keeps `date +
//! interval` a date. PostgreSQL clients read our answers as PostgreSQL's, and a wrapped or
//! truncated value written to a Delta table is data loss nobody sees, so an analyzer rule
//! ([`PostgresSemantics`]), run after DataFusion's type coercion, replaces those operations with
//! functions that answer as PostgreSQL 15 does or fail with its SQLSTATE (22003, 22012), and an
//! expression planner ([`PostgresOperators`]) plans the interval operators.
//! Because it is an analyzer rule, every plan gets it: SELECT, INSERT ... SELECT, CTAS, views,
//! COPY's queries and the catalog's own.

mod array_input;
mod array_remove;
mod array_sets;
mod binary_operands;
mod bytea;
mod bytea_functions;
mod case;
mod char_types;
mod checked;
mod coalesce;
mod dates_as_instants;
mod datetime;
mod extract;
mod float_cast;
mod float_min_max;
mod float_numeric;
mod float_text;
mod instants_in_session_zone;
mod interval_groups;
mod interval_order;
mod isfinite;
mod json;
mod json_build;
mod json_contains;
mod json_items;
mod json_set;
mod json_shape;
mod jsonb_operators;
mod justify;
mod make_timestamp;
mod node_rewrite;
mod numeric;
mod numeric_cast;
mod operators;
mod ordered_set;
mod quantified;
mod reg_names;
mod set_comparison;
pub use quantified::{
    expand_over_constants as expand_quantified_constants, is_quantified_comparison,
};
mod refused_arguments;
mod regexp_replacement;
mod regexp_sets;
mod regexp_substr;
mod rounded_avg;
mod rule;
mod set_all;
mod similar_to;
mod sleep;
pub mod temporal_text;
mod text_args;
mod text_out;
mod time_zone;
mod timestamp_input;
mod type_resolution;
mod uuid_operands;
mod uuid_type;
mod width_bucket;

pub use array_input::array_in;
pub use array_remove::ARRAY_REMOVE;
pub use binary_operands::BinaryOperands;
pub use bytea::bytea_in;
pub use char_types::{CHAR_TYPE_KEY, CharKind, CharType, input_udf as char_input_udf};
pub use datetime::Age;
pub use extract::DatePart;
pub use float_numeric::FloatOverNumeric;
pub use float_text::float_text;
pub use interval_groups::IntervalGroups;
pub use interval_order::IntervalOrder;
pub use json::{
    ARROW as JSON_ARROW, ARROW_TEXT as JSON_ARROW_TEXT, CAST_JSON, CAST_JSONB, json_cast_udf,
    jsonb_text,
};
pub use json_build::{Flavor as JsonFlavor, JSON_TYPE_KEY, flavor_of as json_flavor_of};
pub use json_items::{
    OBJECT_AGG as JSON_OBJECT_AGG, OBJECTB_AGG as JSONB_OBJECT_AGG,
    SET_RETURNING as JSON_SET_RETURNING,
};
pub use operators::PostgresOperators;
pub use ordered_set::{MODE, PERCENTILE_DISC};
pub use reg_names::CHECKED_NAME_FUNCTION as REG_CHECKED;
pub use regexp_replacement::PG_REGEXP_REPLACEMENT;
pub use regexp_sets::REGEXP_MATCHES_LISTS;
pub use rule::PostgresSemantics;
pub use set_all::MultisetExceptIntersect;
pub use text_out::nested_text;
pub use time_zone::AtTimeZone;
pub use timestamp_input::with_seconds as timestamp_text_with_seconds;
pub use type_resolution::TypeResolution;
pub use uuid_operands::UuidOperands;
pub use uuid_type::{
    CAST_UUID, canonical as uuid_canonical, is_uuid, mark_uuid, parse_uuid, uuid_cast_udf,
};

use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF};
use datafusion::prelude::SessionContext;

/// Registers the PostgreSQL functions this module adds by name (`age`, and the functions the
/// dialect plans `AT TIME ZONE` and `EXTRACT` as) and those it answers in PostgreSQL's way
/// (`date_part`), `justify_*`, and the function the dialect plans `CAST(x AS numeric)` as.
pub fn install_functions(ctx: &SessionContext) {
    // Over the function registered so far (the catalog library wraps DataFusion's to take
    // integer arguments of any width).
    if let Ok(series) = ctx.table_function("generate_series") {
        ctx.register_udtf(
            "generate_series",
            Arc::new(dates_as_instants::GenerateSeriesOfInstants::new(
                series.function().clone(),
            )),
        );
    }
    ctx.register_udf(ScalarUDF::from(case::SimpleCase::new(true)));
    ctx.register_udf(ScalarUDF::from(case::SimpleCase::new(false)));
    ctx.register_udf(ScalarUDF::from(Age::new()));
    ctx.register_udf(ScalarUDF::from(array_remove::ArrayRemove::new()));
    ctx.register_udf(ScalarUDF::from(similar_to::SimilarToEscape::new()));
    ctx.register_udf(ScalarUDF::from(regexp_replacement::RegexpReplacement::new()));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(
        float_min_max::FloatMinMax::min(),
    ));
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(
        rounded_avg::RoundedAvg::default(),
    ));
    // PostgreSQL's `variance` is `var_samp` (DataFusion has it as `var` / `var_samp` only).
    ctx.register_udaf(
        datafusion::functions_aggregate::variance::var_samp_udaf()
            .as_ref()
            .clone()
            .with_aliases(["variance"]),
    );
    ctx.register_udaf(datafusion::logical_expr::AggregateUDF::from(
        float_min_max::FloatMinMax::max(),
    ));
    ctx.register_udf(ScalarUDF::from(DatePart::new(false)));
    ctx.register_udf(ScalarUDF::from(DatePart::new(true)));
    ctx.register_udf(ScalarUDF::from(numeric_cast::CastToNumeric::new()));
    for kind in [
        justify::Justify::Hours,
        justify::Justify::Days,
        justify::Justify::Interval,
    ] {
        ctx.register_udf(ScalarUDF::from(justify::JustifyInterval::new(kind)));
    }
    ctx.register_udf(ScalarUDF::from(AtTimeZone::new()));
    for quantifier in [quantified::Quantifier::Any, quantified::Quantifier::All] {
        ctx.register_udf(ScalarUDF::from(quantified::PgQuantified::new(quantifier)));
    }
    for function in json::functions()
        .into_iter()
        .chain(json_build::functions())
        .chain(json_contains::functions())
        .chain(json_items::functions())
        .chain(json_set::functions())
        .chain(json_shape::functions())
        .chain(jsonb_operators::functions())
        .chain(char_types::functions())
        .chain(bytea::functions())
        .chain(bytea_functions::functions())
        .chain(refused_arguments::functions())
        .chain(regexp_sets::functions())
        .chain(ordered_set::functions())
        .chain([
            width_bucket::function(),
            regexp_substr::function(),
            interval_order::function(),
            make_timestamp::function(),
            isfinite::function(),
            reg_names::function(),
            coalesce::function(),
            uuid_type::uuid_cast_udf(),
        ])
    {
        ctx.register_udf(function);
    }
    ctx.register_udf(
        datafusion::logical_expr::async_udf::AsyncScalarUDF::new(std::sync::Arc::new(
            sleep::PgSleep::new(),
        ))
        .into_scalar_udf(),
    );
}

/// Whether `op` compares two values (`=`, `<>`, `<`, `<=`, `>`, `>=`, `IS [NOT] DISTINCT
/// FROM`): the operators whose two operands PostgreSQL resolves to one type, which several of
/// this module's rules retype.
pub(crate) fn is_comparison(op: datafusion::logical_expr::Operator) -> bool {
    use datafusion::logical_expr::Operator;
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

/// Whether `expr` is a quoted literal (a text constant, not NULL): PostgreSQL's literal of no
/// type yet, which takes the type of the value it meets.
pub(crate) fn is_quoted_literal(expr: &datafusion::logical_expr::Expr) -> bool {
    matches!(
        expr,
        datafusion::logical_expr::Expr::Literal(
            ScalarValue::Utf8(Some(_))
                | ScalarValue::LargeUtf8(Some(_))
                | ScalarValue::Utf8View(Some(_)),
            _
        )
    )
}

/// The error a function of this module returns to DataFusion: ours, with its SQLSTATE, carried
/// through DataFusion's `External` variant (the error layer unwraps it unchanged).
fn pg_error(
    kind: crate::error::ErrorKind,
    message: impl Into<String>,
) -> datafusion::error::DataFusionError {
    external(crate::error::Error::new(kind, message))
}

/// One of our errors (a PostgreSQL input function's, say) handed to DataFusion unchanged.
fn external(e: crate::error::Error) -> datafusion::error::DataFusionError {
    datafusion::error::DataFusionError::External(Box::new(e))
}

/// The element type of a list type, in any of Arrow's list layouts (None for other types): the
/// array functions and operators of this module and the assignment rule look into lists alike.
pub fn list_element(
    data_type: &datafusion::arrow::datatypes::DataType,
) -> Option<&datafusion::arrow::datatypes::DataType> {
    use datafusion::arrow::datatypes::DataType;
    match data_type {
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => Some(f.data_type()),
        _ => None,
    }
}

/// Evaluates a function over its arguments as arrays and gives back a scalar when all of them
/// were scalars (constant folding asks for one).
pub(crate) fn over_arrays(
    args: &ScalarFunctionArgs,
    f: impl FnOnce(&[ArrayRef]) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let scalar = args
        .args
        .iter()
        .all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let rows = if scalar { 1 } else { args.number_rows };
    let arrays = args
        .args
        .iter()
        .map(|a| a.to_array(rows))
        .collect::<Result<Vec<_>>>()?;
    let out = f(&arrays)?;
    Ok(if scalar {
        ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
    } else {
        ColumnarValue::Array(out)
    })
}
