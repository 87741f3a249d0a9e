//! Temporary tables: `CREATE TEMP TABLE`, private to one session, in memory, gone at disconnect.
//!
//! dbt builds every incremental model and snapshot through a temporary table, and BI tools stage
//! results in them. A temporary table is not a Delta table (nothing is written to the data
//! directory): its rows live in a DataFusion `MemTable` in the session's own `pg_temp` schema.
//!
//! Every session plans with a catalog list of its own ([`attach_session_catalog`]): the shared
//! Delta catalog seen through a [`SessionCatalog`] that adds the session's `pg_temp` schema and an
//! `information_schema` listing it, so no other session can see (or collide with) its tables.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::information_schema::INFORMATION_SCHEMA;
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProviderList, MemorySchemaProvider,
    SchemaProvider, Session,
};
use datafusion::error::Result;
use datafusion::execution::SessionState;
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
                namespace_oid: next_temp_oid(),
                table_oids: parking_lot::Mutex::new(HashMap::new()),
            }),
        );
    }
    // Swapped in place: rebuilding the state (SessionStateBuilder) would register every
    // function again under its aliases, and DataFusion's `to_char` (alias `date_format`) could
    // replace ours.
    ctx.register_catalog_list(catalogs);
    ctx
}

/// The first OID of temporary objects: far above the OIDs the catalog library counts up from
/// 16384 for shared tables, and below `i32::MAX` (catalog OID columns are int4).
const TEMP_OID_BASE: u32 = 1 << 30;

/// The next OID for a temporary object, unique across the server's sessions.
fn next_temp_oid() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(TEMP_OID_BASE);
    let oid = NEXT.fetch_add(1, Ordering::Relaxed);
    // After a billion temporary objects, start over (long gone by then).
    if oid >= i32::MAX as u32 {
        NEXT.store(TEMP_OID_BASE, Ordering::Relaxed);
    }
    oid
}

/// The shared catalog plus one session's `pg_temp` and an `information_schema` that sees it.
#[derive(Debug)]
struct SessionCatalog {
    shared: Arc<dyn CatalogProvider>,
    temp: TempTables,
    information_schema: Arc<dyn SchemaProvider>,
    /// The OID of the session's `pg_temp` in `pg_namespace`.
    namespace_oid: u32,
    /// Each temporary table's OID, by name and the provider it names (a table dropped and
    /// created again gets a new OID, as in PostgreSQL: clients cache columns by OID).
    table_oids: parking_lot::Mutex<HashMap<(String, usize), u32>>,
}

/// One session's temporary tables as its catalog rows show them (see `temp_rows`).
pub(super) struct SessionTemp {
    /// The OID of the session's `pg_temp` namespace.
    pub namespace_oid: u32,
    /// (OID, name, columns) of each temporary table, by name.
    pub tables: Vec<(u32, String, SchemaRef)>,
}

/// The temporary tables of the session `state` belongs to; None for a session without any
/// (or a context that is not a session's, such as the engine's own).
pub(super) async fn session_temp(state: &dyn Session) -> Result<Option<SessionTemp>> {
    let Some(state) = state.as_any().downcast_ref::<SessionState>() else {
        return Ok(None);
    };
    let Some(catalog) = state.catalog_list().catalog(CATALOG_NAME) else {
        return Ok(None);
    };
    let any: &dyn Any = catalog.as_ref();
    let Some(session) = any.downcast_ref::<SessionCatalog>() else {
        return Ok(None);
    };
    let mut names = session.temp.table_names();
    if names.is_empty() {
        return Ok(None);
    }
    names.sort();
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        if let Some(table) = session.temp.table(&name).await? {
            let identity = Arc::as_ptr(&table) as *const () as usize;
            tables.push((identity, name, table.schema()));
        }
    }
    let mut oids = session.table_oids.lock();
    oids.retain(|(kept, kept_id), _| {
        tables
            .iter()
            .any(|(id, name, _)| kept == name && kept_id == id)
    });
    let tables = tables
        .into_iter()
        .map(|(id, name, schema)| {
            let oid = *oids.entry((name.clone(), id)).or_insert_with(next_temp_oid);
            (oid, name, schema)
        })
        .collect();
    Ok(Some(SessionTemp {
        namespace_oid: session.namespace_oid,
        tables,
    }))
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
