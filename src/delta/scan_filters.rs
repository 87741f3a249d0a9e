//! The conditions a Delta scan is handed: only those delta-rs judges right.
//!
//! Three kinds it misjudged, silently:
//! - **Conditions on float columns.** Parquet leaves NaN out of a float column's min/max
//!   statistics (the format says so, and the Delta log's statistics are taken from them), while
//!   comparisons order NaN above every number, as PostgreSQL does: `y > 2`, `y <> 1.5`,
//!   `y = 'NaN'` hold for a NaN. delta-kernel's file skipping and DataFusion's row-group pruning
//!   trust those bounds (apache/datafusion#24804, open), so a file whose statistics say
//!   `1.5 ..= 1.5` was skipped for `y > 2` although it holds a NaN: the row was missing from
//!   SELECT, and DELETE, UPDATE and MERGE passed it by.
//! - **Conditions that read no column** (`NULL`, `1 = NULL`; DataFusion splits `id > 1 AND
//!   NULL::boolean` and `id NOT IN (2, NULL)` into such a part and the rest). delta-rs takes them
//!   for partition conditions it answers exactly, and its kernel keeps every file where one is
//!   NULL: the condition was dropped and `WHERE id NOT IN (2, NULL)` returned every row but 2
//!   (PostgreSQL: none).
//! - **Partition conditions with a NULL in them** (`p NOT IN ('a', NULL)`): delta-rs answers
//!   partition conditions exactly with its kernel, which keeps the files where one is NULL.
//!
//! [`GuardedScanTable`] declines the first two, so DataFusion evaluates them row by row above the
//! scan, and has DataFusion check the third kind again above it (the scan still reads only the
//! partitions it selects).
//!
//! For floats the same holds beyond it: `plan::nan_pruning` keeps the filters DataFusion pushes
//! into a planned scan (joins' and TopK's dynamic filters) away from float columns, and
//! `plan::write_predicates` keeps them out of the part of an UPDATE/DELETE/MERGE condition delta-rs
//! chooses files with. Partition columns are exact values, not statistics: their conditions
//! still choose files.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNode;
use datafusion::common::{Constraints, Statistics};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, LogicalPlan, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;

/// Whether values of `data_type` can be NaN: a float, or a nested type with a float inside.
pub fn holds_floats(data_type: &DataType) -> bool {
    match data_type {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => true,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => holds_floats(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| holds_floats(f.data_type())),
        DataType::Dictionary(_, value) => holds_floats(value),
        DataType::RunEndEncoded(_, value) => holds_floats(value.data_type()),
        _ => false,
    }
}

/// The columns of `schema` whose statistics leave NaN out, partition columns excepted.
pub fn float_columns(schema: &SchemaRef, partition_columns: &[String]) -> HashSet<String> {
    schema
        .fields()
        .iter()
        .filter(|f| holds_floats(f.data_type()) && !partition_columns.contains(f.name()))
        .map(|f| f.name().clone())
        .collect()
}

/// Whether `filter` holds a NULL constant.
fn holds_null(filter: &Expr) -> bool {
    filter
        .exists(|e| Ok(matches!(e, Expr::Literal(v, _) if v.is_null())))
        .unwrap_or(true)
}

/// A table provider that never hands its scan a condition on a float column or one that reads
/// no column (see the module header); everything else is the wrapped provider's.
#[derive(Debug)]
pub struct GuardedScanTable {
    inner: Arc<dyn TableProvider>,
    float_columns: HashSet<String>,
}

impl GuardedScanTable {
    /// `inner` wrapped; `partition_columns` are the table's (their conditions are exact).
    pub fn wrap(
        inner: Arc<dyn TableProvider>,
        partition_columns: &[String],
    ) -> Arc<dyn TableProvider> {
        let float_columns = float_columns(&inner.schema(), partition_columns);
        Arc::new(Self {
            inner,
            float_columns,
        })
    }

    /// Whether the scan must not be handed `filter`.
    fn declines(&self, filter: &Expr) -> bool {
        let columns = filter.column_refs();
        columns.is_empty() || columns.iter().any(|c| self.float_columns.contains(&c.name))
    }
}

#[async_trait]
impl TableProvider for GuardedScanTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.inner.constraints()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    fn get_table_definition(&self) -> Option<&str> {
        self.inner.get_table_definition()
    }

    fn get_logical_plan(&'_ self) -> Option<Cow<'_, LogicalPlan>> {
        self.inner.get_logical_plan()
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.inner.get_column_default(column)
    }

    /// Unsupported for a condition the scan must not be handed: DataFusion then keeps it above
    /// the scan and never passes it to [`Self::scan`].
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        let mut answers = self.inner.supports_filters_pushdown(filters)?;
        for (answer, filter) in answers.iter_mut().zip(filters) {
            if self.declines(filter) {
                *answer = TableProviderFilterPushDown::Unsupported;
            } else if *answer == TableProviderFilterPushDown::Exact && holds_null(filter) {
                // delta-rs answers partition conditions with the kernel, which keeps the files
                // where one with a NULL in it is NULL (`p NOT IN ('a', NULL)`): DataFusion
                // checks such a one again.
                *answer = TableProviderFilterPushDown::Inexact;
            }
        }
        Ok(answers)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        // DataFusion passes only the filters we accepted; drop any other anyway.
        let filters: Vec<Expr> = filters
            .iter()
            .filter(|f| !self.declines(f))
            .cloned()
            .collect();
        self.inner.scan(state, projection, &filters, limit).await
    }

    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }

    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.insert_into(state, input, insert_op).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, Fields};

    #[test]
    fn floats_are_found_inside_nested_types() {
        assert!(holds_floats(&DataType::Float64));
        assert!(holds_floats(&DataType::Float32));
        assert!(holds_floats(&DataType::List(Arc::new(Field::new(
            "item",
            DataType::Float64,
            true
        )))));
        assert!(holds_floats(&DataType::Struct(Fields::from(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::Float32, true),
        ]))));
        assert!(!holds_floats(&DataType::Decimal128(10, 2)));
        assert!(!holds_floats(&DataType::Int64));
        assert!(!holds_floats(&DataType::Utf8));
    }
}
