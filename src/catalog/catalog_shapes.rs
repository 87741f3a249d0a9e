//! The shapes (columns and kind) of the catalog's own tables, worked out once.
//!
//! `pg_class`, `pg_attribute` and `information_schema` list every table of every schema, the
//! catalog's own included, and learn each one's columns by opening it: for `pg_catalog` and
//! `information_schema` that built some sixty table providers (each correction, each view of
//! `pg_views`) per catalog query, a quarter of the time a BI tool's "list tables" query took.
//! Those tables never change shape, so the walks see them through [`ShapedSchema`], which keeps
//! each one's shape after the first look. Their rows are still read fresh: a shape that is
//! scanned opens the real table.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{SchemaProvider, Session};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

/// The schemas whose tables have fixed shapes.
pub(super) const FIXED_SCHEMAS: [&str; 2] = ["pg_catalog", "information_schema"];

/// Shapes seen so far, by (catalog, schema, table).
#[derive(Debug, Default)]
pub(super) struct Shapes(parking_lot::Mutex<HashMap<(String, String, String), Arc<TableShape>>>);

/// A schema of fixed shapes, as the catalog walks see it.
#[derive(Debug)]
pub(super) struct ShapedSchema {
    inner: Arc<dyn SchemaProvider>,
    /// (catalog, schema).
    path: (String, String),
    shapes: Arc<Shapes>,
}

impl ShapedSchema {
    pub(super) fn new(
        inner: Arc<dyn SchemaProvider>,
        path: (String, String),
        shapes: Arc<Shapes>,
    ) -> Self {
        Self {
            inner,
            path,
            shapes,
        }
    }
}

#[async_trait]
impl SchemaProvider for ShapedSchema {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let key = (self.path.0.clone(), self.path.1.clone(), name.to_string());
        if let Some(shape) = self.shapes.0.lock().get(&key) {
            return Ok(Some(shape.clone()));
        }
        let Some(table) = super::unreadable::table_or_unreadable(self.inner.as_ref(), name).await?
        else {
            return Ok(None);
        };
        let shape = Arc::new(TableShape {
            schema: table.schema(),
            table_type: table.table_type(),
            source: self.inner.clone(),
            name: name.to_string(),
        });
        self.shapes.0.lock().insert(key, shape.clone());
        Ok(Some(shape))
    }

    async fn table_type(&self, name: &str) -> Result<Option<TableType>> {
        Ok(self.table(name).await?.map(|table| table.table_type()))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }
}

/// A catalog table's columns and kind; scanning it scans the table itself.
#[derive(Debug)]
pub(super) struct TableShape {
    schema: SchemaRef,
    table_type: TableType,
    source: Arc<dyn SchemaProvider>,
    name: String,
}

#[async_trait]
impl TableProvider for TableShape {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        self.table_type
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match self.source.table(&self.name).await? {
            Some(table) => table.scan(state, projection, filters, limit).await,
            None => Err(datafusion::error::DataFusionError::Plan(format!(
                "table \"{}\" does not exist",
                self.name
            ))),
        }
    }
}
