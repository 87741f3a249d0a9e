//! One unreadable table must not take the catalog down with it.
//!
//! psql's `\dt` and `\d`, BI tools' start-up queries, `information_schema` and `pg_class` walk
//! every table, and each walk opened each table: one table with a corrupt log, a missing
//! location or a feature this server cannot read made all of them fail, for every client.
//! The walks now see the catalog through [`TolerantCatalogList`], where such a table is still
//! listed, as an [`UnreadableTable`] without columns; a query that names the table itself still
//! gets the table's own error (one line, its SQLSTATE), at planning or, through a view, when
//! scanned.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{CatalogProvider, CatalogProviderList, SchemaProvider, Session};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

/// A table that could not be opened: no columns, and its error when scanned.
#[derive(Debug)]
pub struct UnreadableTable {
    error: crate::error::Error,
    schema: SchemaRef,
}

impl UnreadableTable {
    fn new(error: DataFusionError) -> Self {
        Self {
            error: crate::error::Error::from(error),
            schema: Arc::new(Schema::empty()),
        }
    }
}

#[async_trait]
impl TableProvider for UnreadableTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Err(DataFusionError::External(Box::new(self.error.clone())))
    }
}

/// A catalog list whose schemas answer an unreadable table with an [`UnreadableTable`] instead
/// of an error; given to everything that enumerates tables.
#[derive(Debug)]
pub struct TolerantCatalogList {
    inner: Arc<dyn CatalogProviderList>,
    shapes: Arc<super::catalog_shapes::Shapes>,
}

impl TolerantCatalogList {
    /// Wraps `inner`; registrations go through to it.
    pub fn wrap(inner: Arc<dyn CatalogProviderList>) -> Arc<dyn CatalogProviderList> {
        Arc::new(Self {
            inner,
            shapes: Arc::default(),
        })
    }
}

impl CatalogProviderList for TolerantCatalogList {
    fn register_catalog(
        &self,
        name: String,
        catalog: Arc<dyn CatalogProvider>,
    ) -> Option<Arc<dyn CatalogProvider>> {
        self.inner.register_catalog(name, catalog)
    }

    fn catalog_names(&self) -> Vec<String> {
        self.inner.catalog_names()
    }

    fn catalog(&self, name: &str) -> Option<Arc<dyn CatalogProvider>> {
        self.inner.catalog(name).map(|inner| {
            Arc::new(TolerantCatalog {
                name: name.to_string(),
                inner,
                shapes: self.shapes.clone(),
            }) as Arc<dyn CatalogProvider>
        })
    }
}

#[derive(Debug)]
struct TolerantCatalog {
    name: String,
    inner: Arc<dyn CatalogProvider>,
    shapes: Arc<super::catalog_shapes::Shapes>,
}

impl CatalogProvider for TolerantCatalog {
    fn schema_names(&self) -> Vec<String> {
        self.inner.schema_names()
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        let inner = self.inner.schema(name)?;
        if super::catalog_shapes::FIXED_SCHEMAS.contains(&name) {
            return Some(Arc::new(super::catalog_shapes::ShapedSchema::new(
                inner,
                (self.name.clone(), name.to_string()),
                self.shapes.clone(),
            )));
        }
        Some(Arc::new(TolerantSchema { inner }))
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        self.inner.register_schema(name, schema)
    }
}

#[derive(Debug)]
struct TolerantSchema {
    inner: Arc<dyn SchemaProvider>,
}

#[async_trait]
impl SchemaProvider for TolerantSchema {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        table_or_unreadable(self.inner.as_ref(), name).await
    }

    async fn table_type(&self, name: &str) -> Result<Option<TableType>> {
        match self.inner.table_type(name).await {
            Ok(t) => Ok(t),
            Err(_) => Ok(Some(TableType::Base)),
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }
}

/// `schema.table(name)`, with an unreadable table as an [`UnreadableTable`] (logged).
pub async fn table_or_unreadable(
    schema: &dyn SchemaProvider,
    name: &str,
) -> Result<Option<Arc<dyn TableProvider>>> {
    match schema.table(name).await {
        Ok(table) => Ok(table),
        Err(e) => {
            tracing::warn!(table = name, error = %e, "listing an unreadable table without columns");
            Ok(Some(Arc::new(UnreadableTable::new(e))))
        }
    }
}
