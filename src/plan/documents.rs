//! Columns declared `json` or `jsonb`: stored as text (Delta has no JSON type) and marked in the
//! table's schema (the field metadata `deltagres.json` = `json` / `jsonb`, which Spark keeps
//! and ignores), so that every write checks its values as PostgreSQL's input functions do: a
//! value that is not JSON fails the statement with 22P02 and writes nothing; a jsonb value is
//! stored in jsonb's form (keys sorted, the last duplicate kept), as PostgreSQL stores it. Reads
//! send such a column typed json / jsonb.
//!
//! Every write path puts its values through the same casts queries use (`pg_json` /
//! `pg_jsonb`): INSERT and COPY by a projection over their input, UPDATE and MERGE by wrapping
//! the assigned expressions.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, ScalarUDF};

use crate::error::Result;
use crate::semantics::JsonFlavor;

/// `field` marked as a document column of `flavor` (the key the JSON functions mark their
/// results with).
pub fn mark(field: Field, flavor: JsonFlavor) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(
        crate::semantics::JSON_TYPE_KEY.to_string(),
        flavor.tag().to_string(),
    );
    field.with_metadata(metadata)
}

/// The cast a value of a document column goes through on its way in.
fn cast_function(flavor: JsonFlavor) -> &'static str {
    match flavor {
        JsonFlavor::Json => crate::semantics::CAST_JSON,
        JsonFlavor::Jsonb => crate::semantics::CAST_JSONB,
    }
}

/// `plan` (rows for `target`, its columns named as the table's) with each document column's
/// value put through its cast; `plan` itself when none of its columns is one.
pub fn checked_rows(plan: LogicalPlan, target: &Schema) -> Result<LogicalPlan> {
    let flavor = |name: &str| {
        target
            .field_with_name(name)
            .ok()
            .and_then(crate::semantics::json_flavor_of)
    };
    let columns = plan.schema().columns();
    if columns.iter().all(|c| flavor(&c.name).is_none()) {
        return Ok(plan);
    }
    let exprs: Vec<Expr> = columns
        .into_iter()
        .map(|column| {
            let name = column.name.clone();
            match flavor(&name) {
                Some(flavor) => cast_udf(flavor)
                    .call(vec![Expr::Column(column)])
                    .alias(name),
                None => Expr::Column(column),
            }
        })
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// The SQL text of an assigned value (`UPDATE ... SET c = expr`, MERGE's SET and VALUES) for a
/// column of `target`: wrapped in the column's cast when it is a document column.
pub fn checked_sql(target: &Schema, column: &str, sql: String) -> String {
    let flavor = target
        .field_with_name(column)
        .ok()
        .and_then(crate::semantics::json_flavor_of);
    match flavor {
        Some(flavor) => format!("{}({sql})", cast_function(flavor)),
        None => sql,
    }
}

fn cast_udf(flavor: JsonFlavor) -> Arc<ScalarUDF> {
    Arc::new(crate::semantics::json_cast_udf(flavor))
}
