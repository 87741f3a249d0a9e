//! The values and conditions of a MERGE's clauses, planned by this session over the target's
//! and the source's rows (see `write_exprs`), with PostgreSQL's assignment rule.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::DFSchema;
use datafusion::execution::SessionState;
use datafusion::logical_expr::ExprSchemable as _;
use sqlparser::ast;

use super::write_exprs::WriteExprs;
use crate::error::Result;

/// The expressions of a MERGE over the target's rows (under `target_alias`) and the source's
/// (under `source_alias`), as delta-rs joins them.
pub fn merge_exprs(
    state: SessionState,
    source: &datafusion::arrow::datatypes::Schema,
    source_alias: &str,
    target: &SchemaRef,
    target_alias: &str,
) -> Result<WriteExprs> {
    let mut rows = DFSchema::try_from_qualified_schema(target_alias, target)?;
    rows.merge(&DFSchema::try_from_qualified_schema(source_alias, source)?);
    Ok(WriteExprs::new(state, rows))
}

/// PostgreSQL's assignment rule (see `assignment_types`) for the values a clause gives the
/// target's columns.
pub struct AssignmentTyping<'a> {
    /// The MERGE's expressions.
    pub exprs: &'a WriteExprs,
    /// The target table's columns.
    pub target: &'a SchemaRef,
}

impl AssignmentTyping<'_> {
    /// The SQL that assigns `value` to `column`: 42804 if PostgreSQL would not assign it, and
    /// a value for a text column cast to text first (delta-rs typed the CASE that picks the
    /// new or the old value by the value, so a date for a text column read the old texts as
    /// dates, 22007, and a boolean failed in its type coercion, XX000).
    pub fn assign(&self, column: &str, value: &ast::Expr) -> Result<String> {
        let sql = value.to_string();
        let Ok(field) = self.target.field_with_name(column) else {
            return Ok(sql);
        };
        let planned = self.exprs.plan(&sql)?;
        let typed = super::assignment_types::check_assigned(field, &planned, self.exprs)?;
        let value_type = match typed {
            Some(typed) => Some(typed.data_type().clone()),
            None => planned.get_type(self.exprs.rows()).ok(),
        };
        let needs_text = field.data_type().is_string()
            && value_type.is_some_and(|t| {
                !t.is_string() && t != datafusion::arrow::datatypes::DataType::Null
            });
        Ok(if needs_text {
            format!("CAST(({sql}) AS VARCHAR)")
        } else {
            sql
        })
    }
}
