//! Values on their way into a column go through the column's input function, as PostgreSQL
//! puts every assigned value through its type's input and length rules:
//! - columns declared `json` or `jsonb`: stored as text (Delta has no JSON type) and marked in
//!   the table's schema (the field metadata `deltagres.json` = `json` / `jsonb`, which Spark
//!   keeps and ignores); a value that is not JSON fails the statement with 22P02 and writes
//!   nothing, and a jsonb value is stored in jsonb's form (keys sorted, the last duplicate
//!   kept), as PostgreSQL stores it. Reads send such a column typed json / jsonb;
//! - columns declared `uuid`: stored as text in the canonical form (marked `deltagres.type` =
//!   `uuid`); a value that is no uuid fails with 22P02 (see `semantics::uuid_type`);
//! - columns declared `varchar(n)` or `char(n)` (marked with Spark's own key, see
//!   `semantics::CharType`): a value longer than `n` fails with 22001 and writes nothing.
//!
//! Every write path puts its values through the same functions: INSERT and COPY by a projection
//! over their input, UPDATE and MERGE by wrapping the assigned expressions.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, lit};

use crate::error::Result;
use crate::semantics::{CharType, JsonFlavor};

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

/// What a value of a column goes through on its way in, if anything.
#[derive(Clone, Copy)]
enum Input {
    Document(JsonFlavor),
    Uuid,
    Text(CharType),
}

impl Input {
    fn of(target: &Schema, column: &str) -> Option<Self> {
        let field = target.field_with_name(column).ok()?;
        if crate::semantics::is_uuid(field) {
            return Some(Input::Uuid);
        }
        crate::semantics::json_flavor_of(field)
            .map(Input::Document)
            .or_else(|| CharType::of(field).map(Input::Text))
    }

    /// The input function's name.
    fn function(self) -> &'static str {
        match self {
            Input::Document(JsonFlavor::Json) => crate::semantics::CAST_JSON,
            Input::Document(JsonFlavor::Jsonb) => crate::semantics::CAST_JSONB,
            Input::Uuid => crate::semantics::CAST_UUID,
            Input::Text(char_type) => char_type.input_function(),
        }
    }

    /// `value` put through the input function, as a DataFusion expression.
    fn expr(self, value: Expr) -> Expr {
        match self {
            Input::Document(flavor) => {
                Arc::new(crate::semantics::json_cast_udf(flavor)).call(vec![value])
            }
            Input::Uuid => Arc::new(crate::semantics::uuid_cast_udf()).call(vec![value]),
            Input::Text(char_type) => {
                let udf = crate::semantics::char_input_udf(char_type);
                Arc::new(udf).call(vec![value, lit(i64::from(char_type.length))])
            }
        }
    }

    /// `sql` put through the input function, as SQL text.
    fn sql(self, sql: String) -> String {
        match self {
            Input::Document(_) | Input::Uuid => format!("{}({sql})", self.function()),
            Input::Text(char_type) => {
                format!("{}({sql}, {})", self.function(), char_type.length)
            }
        }
    }
}

/// `plan` (rows for `target`, its columns named as the table's) with each value put through its
/// column's input function; `plan` itself when no column has one.
pub fn checked_rows(plan: LogicalPlan, target: &Schema) -> Result<LogicalPlan> {
    let columns = plan.schema().columns();
    if columns.iter().all(|c| Input::of(target, &c.name).is_none()) {
        return Ok(plan);
    }
    let exprs: Vec<Expr> = columns
        .into_iter()
        .map(|column| {
            let name = column.name.clone();
            match Input::of(target, &name) {
                Some(input) => input.expr(Expr::Column(column)).alias(name),
                None => Expr::Column(column),
            }
        })
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(exprs)?.build()?)
}

/// The SQL text of an assigned value (`UPDATE ... SET c = expr`, MERGE's SET and VALUES) for a
/// column of `target`: wrapped in the column's input function when it has one.
pub fn checked_sql(target: &Schema, column: &str, sql: String) -> String {
    match Input::of(target, column) {
        Some(input) => input.sql(sql),
        None => sql,
    }
}
