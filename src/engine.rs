//! [`Engine`]: what all sessions share: the catalog, the memory pool and a prepared DataFusion state.
//!
//! Building the base state (function registry, `pg_catalog`, our catalog) happens once at start;
//! each session then clones it, so per-session `SET datafusion.*` changes stay private to the session
//! while tables, memory pool and object stores are shared.

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::catalog::{
    self, AllowedPaths, CATALOG_NAME, DEFAULT_SCHEMA, DeltaCatalog, DeltaCatalogProvider,
    ReadParquet, SkewReport,
};
use crate::config::Config;
use crate::delta::StorageOptions;
use crate::error::{Error, Result};

/// The shared query engine of one server process.
pub struct Engine {
    config: Config,
    catalog: Arc<DeltaCatalog>,
    base: SessionContext,
    allowed: AllowedPaths,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("catalog", &self.catalog)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens the data directory (a local folder or an object-store URL) and prepares the
    /// engine; a task re-reads the catalog every `storage.catalog_refresh_secs` while it lives.
    pub async fn open(config: Config) -> Result<Arc<Self>> {
        crate::delta::install_local_store();
        crate::delta::install_conflict_guard();
        let storage = StorageOptions::new(config.storage.object_store_options());
        let catalog = Arc::new(
            DeltaCatalog::open(
                &config.storage.data_dir,
                storage.clone(),
                config.storage.allow_unsafe_commits,
            )
            .await?,
        );
        spawn_catalog_refresh(&catalog, config.storage.catalog_refresh_secs);
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(limit) = config
            .memory_limit_bytes()
            .map_err(|e| Error::internal(e.to_string()))?
        {
            runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        }
        let runtime = runtime.build_arc()?;
        let mut session_config = SessionConfig::new()
            .with_default_catalog_and_schema(CATALOG_NAME, DEFAULT_SCHEMA)
            .with_create_default_catalog_and_schema(false)
            // Our own `information_schema` is registered in the catalog below (PostgreSQL's
            // shape); with this option on, DataFusion would answer the schema itself.
            .with_information_schema(false);
        // PostgreSQL's TimeZone defaults to UTC here; DataFusion needs it set so TIMESTAMPTZ
        // columns carry a zone (Delta's TIMESTAMP) instead of becoming zone-less.
        session_config.options_mut().execution.time_zone = Some("UTC".into());
        // Spark writes timestamps as INT96; read as nanoseconds, years past 2262 overflow (a
        // Spark table's 9999-12-31 came back as 1816). Microseconds are Delta's own precision.
        // PostgreSQL's decimal literals are exact `numeric` (0.1 + 0.2 is 0.3), as in Databricks SQL.
        session_config
            .options_mut()
            .sql_parser
            .parse_float_as_decimal = true;
        session_config.options_mut().execution.parquet.coerce_int96 = Some("us".into());
        if config.engine.target_partitions > 0 {
            session_config = session_config.with_target_partitions(config.engine.target_partitions);
        }
        let state = SessionStateBuilder::new()
            .with_config(session_config)
            .with_runtime_env(runtime)
            .with_default_features()
            .build();
        let base = SessionContext::new_with_state(crate::plan::lakehouse_state(state));
        base.register_catalog(
            CATALOG_NAME,
            Arc::new(DeltaCatalogProvider::new(catalog.clone())),
        );
        let users = config.auth.users.iter().map(|u| u.name.clone()).collect();
        catalog::install_pg_catalog(&base, users)?;
        catalog::install_formatting_functions(&base);
        crate::semantics::install_functions(&base);
        let allowed = AllowedPaths::new(catalog.warehouse(), &config.storage.allowed_paths);
        base.register_udtf(
            "read_parquet",
            Arc::new(ReadParquet::new(allowed.clone(), storage)),
        );
        base.register_udtf("deltagres_skew", Arc::new(SkewReport::new(catalog.clone())));
        catalog::install_information_schema(&base)?;
        Ok(Arc::new(Self {
            config,
            catalog,
            base,
            allowed,
        }))
    }

    /// Bytes the engine's memory pool has handed out now (for `/metrics`).
    pub fn memory_reserved(&self) -> usize {
        self.base.runtime_env().memory_pool.reserved()
    }

    /// The configuration the server started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Where user-given paths may point.
    pub fn allowed_paths(&self) -> &AllowedPaths {
        &self.allowed
    }

    /// The shared catalog.
    pub fn catalog(&self) -> &Arc<DeltaCatalog> {
        &self.catalog
    }

    /// A fresh DataFusion context for one session, sharing catalog, functions and memory pool.
    pub fn new_context(&self) -> SessionContext {
        SessionContext::new_with_state(self.base.state())
    }
}

/// Re-reads the catalog from the data directory every `secs` seconds (0: never), so tables,
/// schemas and views other servers sharing it created or dropped appear and go. Ends with the
/// catalog.
fn spawn_catalog_refresh(catalog: &Arc<DeltaCatalog>, secs: u64) {
    if secs == 0 {
        return;
    }
    let catalog = Arc::downgrade(catalog);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(catalog) = catalog.upgrade() else {
                return;
            };
            if let Err(e) = catalog.refresh().await {
                tracing::warn!(error = %e.message, "catalog refresh failed; retrying at the next interval");
            }
        }
    });
}
