//! Temporary tables: `CREATE TEMP TABLE`, private to one session, in memory, gone at disconnect.
//!
//! dbt builds every incremental model and snapshot through a temporary table, and BI tools stage
//! results in them. A temporary table is not a Delta table (nothing is written to the data
//! directory): its rows live in a DataFusion `MemTable` in the session's own `pg_temp` schema.
//!
//! Every session plans with a catalog list of its own ([`attach_session_catalog`]): the shared
//! Delta catalog seen through a [`SessionCatalog`] that adds the session's `pg_temp` schema and an
//! `information_schema` listing it, so no other session can see (or collide with) its tables.

use std::sync::Arc;

use datafusion::catalog::information_schema::INFORMATION_SCHEMA;
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProviderList, MemorySchemaProvider,
    SchemaProvider,
};
use datafusion::error::Result;
use datafusion::prelude::SessionContext;

use super::CATALOG_NAME;
use super::information_schema::InformationSchema;

/// The schema temporary tables live in; PostgreSQL resolves unqualified names there first.
pub const TEMP_SCHEMA: &str = "pg_temp";

/// One session's temporary tables.
pub type TempTables = Arc<MemorySchemaProvider>;

/// Gives `ctx` a catalog list of its own in which `deltagres.pg_temp` is `temp` (and
/// `information_schema` lists it); every other catalog and schema stays the shared one.
pub fn attach_session_catalog(ctx: SessionContext, temp: &TempTables) -> SessionContext {
    let state = ctx.state();
    let shared = state.catalog_list();
    let catalogs: Arc<dyn CatalogProviderList> = Arc::new(MemoryCatalogProviderList::new());
    for name in shared.catalog_names() {
        if name == CATALOG_NAME {
            continue;
        }
        if let Some(catalog) = shared.catalog(&name) {
            catalogs.register_catalog(name, catalog);
        }
    }
    if let Some(delta) = shared.catalog(CATALOG_NAME) {
        let information_schema = Arc::new(InformationSchema::new(
            catalogs.clone(),
            state.table_functions().clone(),
        ));
        catalogs.register_catalog(
            CATALOG_NAME.to_string(),
            Arc::new(SessionCatalog {
                shared: delta,
                temp: temp.clone(),
                information_schema,
            }),
        );
    }
    // Swapped in place: rebuilding the state (SessionStateBuilder) would register every
    // function again under its aliases, and DataFusion's `to_char` (alias `date_format`) could
    // replace ours.
    ctx.register_catalog_list(catalogs);
    ctx
}

/// The shared catalog plus one session's `pg_temp` and an `information_schema` that sees it.
#[derive(Debug)]
struct SessionCatalog {
    shared: Arc<dyn CatalogProvider>,
    temp: TempTables,
    information_schema: Arc<dyn SchemaProvider>,
}

impl CatalogProvider for SessionCatalog {
    fn schema_names(&self) -> Vec<String> {
        let mut names = self.shared.schema_names();
        // As PostgreSQL's pg_temp_N, the schema shows once the session has a temporary table.
        if !self.temp.table_names().is_empty() {
            names.push(TEMP_SCHEMA.to_string());
        }
        names
    }

    fn schema(&self, name: &str) -> Option<Arc<dyn SchemaProvider>> {
        match name {
            TEMP_SCHEMA => Some(self.temp.clone()),
            INFORMATION_SCHEMA => Some(self.information_schema.clone()),
            _ => self.shared.schema(name),
        }
    }

    fn register_schema(
        &self,
        name: &str,
        schema: Arc<dyn SchemaProvider>,
    ) -> Result<Option<Arc<dyn SchemaProvider>>> {
        self.shared.register_schema(name, schema)
    }
}
