//! Operators over uuid values (text marked as uuid, see `uuid_type`) typed as PostgreSQL types
//! them; an analyzer rule before DataFusion's type coercion, which sees only two texts:
//! - a quoted literal compared with a uuid (`id = 'A0EE...'`, `id IN ('...', '...')`) or
//!   beside one in `COALESCE` / `NULLIF` / `GREATEST` / `LEAST` is read as a uuid, so any form PostgreSQL accepts matches and a text that is no uuid is 22P02 (a
//!   plain text comparison found no row for an upper-case uuid: a silent wrong answer);
//! - `id::text` / `CAST(id AS varchar)` is a text, no longer a uuid (DataFusion's cast to the
//!   same Arrow type kept the mark, so the client was sent a uuid);
//! - `max` / `min` of a uuid are refused as PostgreSQL has none (42883).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::Field;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr::{BinaryExpr, Cast, InList};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

use super::uuid_type::{TYPE_KEY, is_uuid, uuid_cast_udf};
use crate::error::{Error, ErrorKind};

/// The analyzer rule; see the module documentation.
#[derive(Debug, Default)]
pub struct UuidOperands;

impl AnalyzerRule for UuidOperands {
    fn name(&self) -> &str {
        "deltagres_uuid_operands"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| {
            super::node_rewrite::rewrite_wanted(plan, is_candidate, rewrite_expr)
        })
        .map(|t| t.data)
    }
}

fn is_candidate(expr: &Expr) -> bool {
    match expr {
        Expr::BinaryExpr(b) => {
            super::is_comparison(b.op)
                && (super::is_quoted_literal(&b.left) || super::is_quoted_literal(&b.right))
        }
        Expr::InList(list) => list.list.iter().any(super::is_quoted_literal),
        Expr::ScalarFunction(f) => {
            same_typed_arguments(f.name()) && f.args.iter().any(super::is_quoted_literal)
        }
        Expr::Cast(cast) => cast.field.data_type().is_string(),
        Expr::AggregateFunction(f) => matches!(f.func.name(), "max" | "min"),
        _ => false,
    }
}

/// Functions whose arguments resolve to one type (a quoted literal among uuids is a uuid).
fn same_typed_arguments(function: &str) -> bool {
    matches!(function, "coalesce" | "nullif" | "greatest" | "least")
}

fn uuid_valued(expr: &Expr, schema: &DFSchema) -> bool {
    expr.to_field(schema).is_ok_and(|(_, f)| is_uuid(&f))
}

/// A quoted literal read as a uuid; other expressions unchanged.
fn as_uuid(expr: Expr) -> Expr {
    if super::is_quoted_literal(&expr) {
        Arc::new(uuid_cast_udf()).call(vec![expr])
    } else {
        expr
    }
}

fn rewrite_expr(expr: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    match expr {
        Expr::BinaryExpr(b)
            if super::is_comparison(b.op)
                && (super::is_quoted_literal(&b.left) && uuid_valued(&b.right, schema)
                    || super::is_quoted_literal(&b.right) && uuid_valued(&b.left, schema)) =>
        {
            Ok(Transformed::yes(Expr::BinaryExpr(BinaryExpr::new(
                Box::new(as_uuid(*b.left)),
                b.op,
                Box::new(as_uuid(*b.right)),
            ))))
        }
        Expr::InList(list) if uuid_valued(&list.expr, schema) => {
            Ok(Transformed::yes(Expr::InList(InList::new(
                list.expr,
                list.list.into_iter().map(as_uuid).collect(),
                list.negated,
            ))))
        }
        Expr::ScalarFunction(mut f)
            if same_typed_arguments(f.name()) && f.args.iter().any(|a| uuid_valued(a, schema)) =>
        {
            f.args = f.args.into_iter().map(as_uuid).collect();
            Ok(Transformed::yes(Expr::ScalarFunction(f)))
        }
        Expr::Cast(cast)
            if cast.field.data_type().is_string() && uuid_valued(&cast.expr, schema) =>
        {
            // A cast whose target field names its type keeps no mark of its operand's.
            let field = Field::new("", cast.field.data_type().clone(), true).with_metadata(
                HashMap::from([(TYPE_KEY.to_string(), "text".to_string())]),
            );
            Ok(Transformed::yes(Expr::Cast(Cast {
                expr: cast.expr,
                field: Arc::new(field),
            })))
        }
        Expr::AggregateFunction(f)
            if matches!(f.func.name(), "max" | "min")
                && f.params.args.first().is_some_and(|a| uuid_valued(a, schema)) =>
        {
            Err(super::external(
                Error::new(
                    ErrorKind::UndefinedFunction,
                    format!("function {}(uuid) does not exist", f.func.name()),
                )
                .with_hint(
                    "No function matches the given name and argument types. You might need to add explicit type casts.",
                ),
            ))
        }
        other => Ok(Transformed::no(other)),
    }
}
