//! Column defaults (`c type DEFAULT expr`) in the Delta protocol's form, so Spark and Databricks
//! fill the same values: the default is Spark SQL text in the column's schema metadata
//! `CURRENT_DEFAULT` (Spark's key), and the table's protocol lists the `allowColumnDefaults`
//! writer feature. The values of the columns a write leaves out are made by the statement that
//! writes (the planner puts the expression where the value would be); delta-rs writes the rest,
//! given a snapshot copy without the feature (see [`super::handled_features`]).

use deltalake::DeltaTable;
use deltalake::kernel::{MetadataValue, StructField, StructType};

use crate::error::Result;

/// Schema metadata key: a column's default, as Spark SQL text.
pub const CURRENT_DEFAULT: &str = "CURRENT_DEFAULT";
/// The writer feature a table with column defaults lists.
pub(super) const FEATURE: &str = "allowColumnDefaults";

/// The columns of `table` (at its loaded version) that have a default, with its text, in
/// schema order.
pub fn column_defaults(table: &DeltaTable) -> Result<Vec<(String, String)>> {
    Ok(schema_column_defaults(&table.snapshot()?.schema()))
}

/// The columns of `schema` that have a default, with its text, in schema order.
fn schema_column_defaults(schema: &StructType) -> Vec<(String, String)> {
    schema
        .fields()
        .filter_map(|field| Some((field.name().to_string(), field_default(field)?)))
        .collect()
}

/// The default of one column, when it has one.
fn field_default(field: &StructField) -> Option<String> {
    match field.metadata().get(CURRENT_DEFAULT)? {
        MetadataValue::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// Whether a new table's `schema` declares a default, so the table needs the feature.
pub(super) fn declares_defaults(schema: &StructType) -> bool {
    schema
        .fields()
        .any(|f| f.metadata().contains_key(CURRENT_DEFAULT))
}
