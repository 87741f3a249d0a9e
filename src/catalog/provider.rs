//! DataFusion's view of the [`DeltaCatalog`]: a `CatalogProvider` whose schemas resolve table names
//! to delta-rs table providers at the latest committed version.

use std::collections::BTreeMap;
use std::sync::Arc;

// parking_lot's locks do not poison: a panic while one is held cannot lock every later
// session out of the catalog.
use parking_lot::RwLock;

use async_trait::async_trait;
use datafusion::catalog::{CatalogProvider, SchemaProvider, TableProvider};
use datafusion::error::{DataFusionError, Result};

use super::{DeltaCatalog, TableRef};
use crate::delta;
use datafusion::datasource::MemTable;

/// The `deltagres` catalog. Besides the Delta-backed schemas it keeps the schemas other components
/// register in memory (`pg_catalog`), which are never written to disk.
#[derive(Debug)]
pub struct DeltaCatalogProvider {
    catalog: Arc<DeltaCatalog>,
    virtual_schemas: RwLock<BTreeMap<String, Arc<dyn SchemaProvider>>>,
}

impl DeltaCatalogProvider {
    /// Wraps the shared catalog.
    pub fn new(catalog: Arc<DeltaCatalog>) -> Self {
        Self {
            catalog,
            virtual_schemas: RwLock::new(BTreeMap::new()),
        }
    }
}

/// The shared catalog behind the `deltagres` catalog of `catalogs`, for the `pg_catalog` tables
/// and functions that read the Delta tables' own facts (comments, sizes) rather than what their
/// providers show.
pub(super) fn shared_delta_catalog(
    catalogs: &dyn datafusion::catalog::CatalogProviderList,
) -> Option<Arc<DeltaCatalog>> {
    let catalog = catalogs.catalog(super::CATALOG_NAME)?;
    let any: &dyn std::any::Any = catalog.as_ref();
    any.downcast_ref::<DeltaCatalogProvider>()
        .map(|provider| provider.catalog.clone())
}

impl CatalogProvider for DeltaCatalogProvider {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.catalog.schema_names();
        names.extend(self.virtual_schemas.read().keys().cloned());
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        if let Some(s) = self.virtual_schemas.read().get(name) {
            return Some(s.clone());
        }
        self.catalog.schema_exists(name).then(|| {
            Arc::new(DeltaSchemaProvider {
                catalog: self.catalog.clone(),
                schema: name.to_string(),
            }) as Arc<dyn SchemaProvider>
        })
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        Ok(self
            .virtual_schemas
            .write()
            .insert(name.to_string(), schema))
    }
}

/// The suffixes of the metadata tables (`"t$history"`).
const METADATA_TABLES: [&str; 3] = ["history", "detail", "files"];

/// One Delta-backed schema.
#[derive(Debug)]
struct DeltaSchemaProvider {
    catalog: Arc<DeltaCatalog>,
    schema: String,
}

impl DeltaSchemaProvider {
    /// `"t$history"`, `"t$detail"`, `"t$files"`: Delta metadata as tables, for tools that cannot
    /// send DESCRIBE.
    async fn metadata_table(
        &self,
        base: &str,
        kind: &str,
    ) -> Result<Option<Arc<dyn TableProvider>>> {
        let table_ref = TableRef {
            schema: self.schema.clone(),
            table: base.to_string(),
        };
        if !self.catalog.table_exists(&table_ref) {
            return Ok(None);
        }
        let external = |e: crate::error::Error| DataFusionError::External(Box::new(e));
        let table = self.catalog.load(&table_ref).await.map_err(external)?;
        let batch = match kind {
            "history" => delta::history_batch(&table, None).await.map_err(external)?,
            "detail" => delta::detail_batch(&table).map_err(external)?,
            "files" => delta::files_batch(&table).map_err(external)?,
            _ => return Ok(None),
        };
        Ok(Some(Arc::new(MemTable::try_new(
            batch.schema(),
            vec![vec![batch]],
        )?)))
    }
}

#[async_trait]
impl SchemaProvider for DeltaSchemaProvider {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.catalog.table_names(&self.schema);
        names.extend(self.catalog.view_names(&self.schema));
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let table_ref = TableRef {
            schema: self.schema.clone(),
            table: name.to_string(),
        };
        if !name.contains('$')
            && self.catalog.view(&table_ref).is_none()
            && !self.catalog.table_exists(&table_ref)
        {
            // Another server sharing the data directory may have created it since.
            self.catalog.refresh_after_miss().await;
        }
        if let Some(view) = self.catalog.view(&table_ref) {
            let provider = super::views::ViewProvider::new(view)
                .map_err(|e| DataFusionError::External(Box::new(e)))?;
            return Ok(Some(Arc::new(provider)));
        }
        if !self.catalog.table_exists(&table_ref) {
            // A table's own name wins over the metadata suffix (a table may be named `a$b`).
            return match name.rsplit_once('$') {
                Some((base, kind)) if METADATA_TABLES.contains(&kind) => {
                    self.metadata_table(base, kind).await
                }
                _ => Ok(None),
            };
        }
        let provider = self
            .catalog
            .read_provider(&table_ref)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Some(provider))
    }

    /// Answered from the registry, without opening the table (psql's `\\dt` asks it of every
    /// table, and an unreadable one is still a table).
    async fn table_type(&self, name: &str) -> Result<Option<datafusion::datasource::TableType>> {
        use datafusion::datasource::TableType;
        let table_ref = TableRef {
            schema: self.schema.clone(),
            table: name.to_string(),
        };
        if self.catalog.view(&table_ref).is_some() {
            return Ok(Some(TableType::View));
        }
        if self.catalog.table_exists(&table_ref) {
            return Ok(Some(TableType::Base));
        }
        Ok(self.table(name).await?.map(|t| t.table_type()))
    }

    fn table_exist(&self, name: &str) -> bool {
        let name = TableRef {
            schema: self.schema.clone(),
            table: name.to_string(),
        };
        self.catalog.table_exists(&name) || self.catalog.view(&name).is_some()
    }
}
