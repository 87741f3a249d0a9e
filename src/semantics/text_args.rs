//! The values `concat`, `concat_ws` and `format` write, as PostgreSQL's output functions write
//! them. PostgreSQL builds their text with each argument's output function: a boolean is `t` or
//! `f` there (only the cast `true::text` says `true`), so `concat('x', true)` is `xt`; DataFusion
//! cast it (`xtrue`). `format('%s', x)` wrote Arrow's display of `x` (`2024-01-01T10:00:00`,
//! `100000000000000000000` for `1e20::float8`); its arguments now go through the same
//! output-function text as casts to text (`text_out`).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::DFSchema;
use datafusion::logical_expr::expr::{Cast, ScalarFunction};
use datafusion::logical_expr::{Expr, ExprSchemable, lit, not, when};

use super::text_out;

/// Whether `f` writes its arguments into one text.
fn joins_text(f: &ScalarFunction) -> bool {
    matches!(f.name(), "concat" | "concat_ws" | "format")
}

/// `f` with its arguments written as PostgreSQL writes them, or `None` when nothing changes.
pub fn with_output_text(f: &ScalarFunction, schema: &DFSchema) -> Option<ScalarFunction> {
    if !joins_text(f) {
        return None;
    }
    // `format`'s first argument is the template, `concat_ws`'s the separator.
    let skip = usize::from(f.name() != "concat");
    let mut changed = false;
    let args = f
        .args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            if i < skip {
                return arg.clone();
            }
            let written = output_text(arg, schema, f.name() == "format");
            changed |= written.is_some();
            written.unwrap_or_else(|| arg.clone())
        })
        .collect();
    changed.then(|| ScalarFunction::new_udf(f.func.clone(), args))
}

/// `arg` as its output function's text, when that differs from what the function would write.
fn output_text(arg: &Expr, schema: &DFSchema, uncast: bool) -> Option<Expr> {
    // The boolean under the cast to text DataFusion's coercion put in.
    let value = match arg {
        Expr::Cast(Cast { expr, field }) if field.data_type().is_string() => expr.as_ref(),
        other => other,
    };
    let t = value.get_type(schema).ok()?;
    if t == DataType::Boolean {
        return Some(boolout(value.clone()));
    }
    // `format` takes its arguments uncast: write those Arrow would write differently.
    (uncast && text_out::differs_from_postgres(&t)).then(|| text_out::PgTextOut::call(arg.clone()))
}

/// PostgreSQL's `boolout`: `t`, `f`, or NULL.
fn boolout(b: Expr) -> Expr {
    when(b.clone(), lit("t"))
        .when(not(b), lit("f"))
        .end()
        .expect("a CASE with WHEN clauses")
}
