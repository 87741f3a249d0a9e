//! [`DeltaCatalog`]: the registry of schemas and Delta tables, rebuilt from the data directory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

// parking_lot's locks do not poison: a panic while one is held cannot lock every later
// session out of the catalog.
use parking_lot::RwLock;

use deltalake::DeltaTable;
use serde::{Deserialize, Serialize};
use url::Url;

use super::DEFAULT_SCHEMA;
use super::catalog_file::{CatalogFile, ExternalTable};
use super::views::ViewDef;
use super::warehouse::{Warehouse, is_hidden};
use crate::delta::StorageOptions;
use crate::error::{Error, ErrorKind, Result};

/// Tables, by schema, then name.
type Schemas = BTreeMap<String, BTreeMap<String, Arc<TableEntry>>>;

/// A schema-qualified table name, already normalised (unquoted identifiers lower-cased).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TableRef {
    /// The schema.
    pub schema: String,
    /// The table.
    pub table: String,
}

impl std::fmt::Display for TableRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.schema, self.table)
    }
}

/// One registered table and a cached handle on its Delta log.
#[derive(Debug)]
struct TableEntry {
    location: Url,
    external: bool,
    /// The last loaded state; checked on every access so other writers' commits, from this
    /// server or another process, are always seen.
    cached: tokio::sync::Mutex<crate::delta::CachedTable>,
    /// The turn of statements that rewrite or remove rows: they queue here (first come, first
    /// served) instead of failing each other with 40001 at commit.
    writers: Arc<tokio::sync::Mutex<()>>,
}

/// A statement's turn to rewrite a table's rows (UPDATE, DELETE, MERGE, OPTIMIZE, ...), held until
/// its commit is done. Only this server's statements queue; writers elsewhere still meet Delta's
/// optimistic concurrency (40001).
#[derive(Debug)]
pub struct WriteTurn {
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

/// Schemas and tables of one data directory.
#[derive(Debug)]
pub struct DeltaCatalog {
    warehouse: Warehouse,
    options: StorageOptions,
    schemas: RwLock<Schemas>,
    /// Every view, by name.
    views: RwLock<BTreeMap<TableRef, Arc<ViewDef>>>,
    /// Serialises catalog changes (CREATE/DROP) so the directory and the registry move together.
    ddl_lock: tokio::sync::Mutex<()>,
    /// When a name that was not found last made the catalog re-read the data directory.
    last_miss_refresh: parking_lot::Mutex<Option<std::time::Instant>>,
    /// Held while the catalog is re-read, so a miss waits for a re-read in progress instead of
    /// answering "does not exist" while it runs.
    reloading: tokio::sync::Mutex<()>,
}

/// How often a name that is not found may make the catalog re-read the data directory.
const MISS_REFRESH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

impl DeltaCatalog {
    /// Opens (creating when missing) the data directory, a local path or an object-store URL,
    /// and registers every table and view found in it.
    pub async fn open(
        data_dir: &Path,
        options: StorageOptions,
        allow_unsafe_commits: bool,
    ) -> Result<Self> {
        let warehouse = Warehouse::open(data_dir, &options, allow_unsafe_commits).await?;
        let catalog = Self {
            warehouse,
            options,
            schemas: RwLock::new(BTreeMap::new()),
            views: RwLock::new(BTreeMap::new()),
            ddl_lock: tokio::sync::Mutex::new(()),
            last_miss_refresh: parking_lot::Mutex::new(None),
            reloading: tokio::sync::Mutex::new(()),
        };
        catalog.reload().await?;
        Ok(catalog)
    }

    /// The data directory.
    pub fn warehouse(&self) -> &Warehouse {
        &self.warehouse
    }

    /// The object-store options every table of this catalog is opened with.
    pub fn storage_options(&self) -> &StorageOptions {
        &self.options
    }

    /// Re-reads the data directory and the catalog file, so tables, schemas and views another
    /// server created or dropped are seen (and this server's own never raced: it waits for DDL
    /// in progress). Tables already known keep their loaded state.
    pub async fn refresh(&self) -> Result<()> {
        let _reloading = self.reloading.lock().await;
        let _ddl = self.ddl_lock.lock().await;
        self.reload().await
    }

    /// [`Self::refresh`] after a name was not found, at most once a second, and only when no
    /// DDL of this server is in progress (a CREATE ... AS SELECT holds the DDL lock while it
    /// plans the query that missed).
    pub async fn refresh_after_miss(&self) {
        // A re-read in progress (the periodic one) is waited for; its result may be the answer.
        let _reloading = self.reloading.lock().await;
        if self
            .last_miss_refresh
            .lock()
            .is_some_and(|t| t.elapsed() < MISS_REFRESH_INTERVAL)
        {
            return;
        }
        let Ok(_ddl) = self.ddl_lock.try_lock() else {
            return;
        };
        *self.last_miss_refresh.lock() = Some(std::time::Instant::now());
        if let Err(e) = self.reload().await {
            tracing::warn!(error = %e.message, "catalog refresh failed");
        }
    }

    async fn reload(&self) -> Result<()> {
        let scanned = self.warehouse.scan().await?;
        let file = self.warehouse.read_catalog().await?;
        let mut locations = Vec::new();
        for (schema, tables) in &scanned {
            for table in tables {
                let name = TableRef {
                    schema: schema.clone(),
                    table: table.clone(),
                };
                let url = match self.warehouse.table_url(&name) {
                    Ok(url) => url,
                    // Dropped between the listing and now.
                    Err(_) => continue,
                };
                locations.push((name, url, false));
            }
        }
        for t in &file.tables {
            let url = Url::parse(&t.location)
                .map_err(|e| Error::internal(format!("bad location in catalog file: {e}")))?;
            let name = TableRef {
                schema: t.schema.clone(),
                table: t.name.clone(),
            };
            locations.push((name, url, true));
        }
        let mut schemas = self.schemas.write();
        let mut next: Schemas = scanned
            .keys()
            .map(|s| (s.clone(), BTreeMap::new()))
            .collect();
        for (name, url, external) in locations {
            let kept = schemas
                .get(&name.schema)
                .and_then(|tables| tables.get(&name.table))
                .filter(|e| e.location == url && e.external == external)
                .cloned();
            next.entry(name.schema).or_default().insert(
                name.table,
                kept.unwrap_or_else(|| Arc::new(TableEntry::new(url, external))),
            );
        }
        *schemas = next;
        *self.views.write() = file
            .views
            .into_iter()
            .filter(|v| schemas.contains_key(&v.schema))
            .map(|v| (v.table_ref(), Arc::new(v)))
            .collect();
        Ok(())
    }

    /// Takes the catalog-change lock; hold it across a CREATE or DROP so concurrent DDL on the same
    /// name cannot interleave.
    pub async fn lock_ddl(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.ddl_lock.lock().await
    }

    /// All schema names, sorted.
    pub fn schema_names(&self) -> Vec<String> {
        self.schemas.read().keys().cloned().collect()
    }

    /// Whether `schema` exists.
    pub fn schema_exists(&self, schema: &str) -> bool {
        self.schemas.read().contains_key(schema)
    }

    /// Table names of `schema`, sorted; empty when the schema does not exist.
    pub fn table_names(&self, schema: &str) -> Vec<String> {
        self.schemas
            .read()
            .get(schema)
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether the table is registered.
    pub fn table_exists(&self, table: &TableRef) -> bool {
        self.entry(table).is_some()
    }

    /// Where the table's Delta log lives, and whether it is external.
    pub fn table_location(&self, table: &TableRef) -> Option<(Url, bool)> {
        self.entry(table).map(|e| (e.location.clone(), e.external))
    }

    fn entry(&self, table: &TableRef) -> Option<Arc<TableEntry>> {
        self.schemas
            .read()
            .get(&table.schema)?
            .get(&table.table)
            .cloned()
    }

    /// The table's latest committed state (see [`crate::delta::CachedTable`]: one small read
    /// when nothing changed).
    pub async fn load(&self, table: &TableRef) -> Result<DeltaTable> {
        let entry = self
            .entry(table)
            .ok_or_else(|| Error::undefined_table(table))?;
        let started = std::time::Instant::now();
        let loaded = entry
            .cached
            .lock()
            .await
            .current(&entry.location, &table.to_string(), &self.options)
            .await?;
        tracing::debug!(%table, version = loaded.version(), elapsed_us = started.elapsed().as_micros() as u64, "table state loaded");
        Ok(loaded)
    }

    /// A provider reading `table`'s latest committed version (see
    /// [`crate::delta::CachedTable::current_provider`]).
    pub async fn read_provider(
        &self,
        table: &TableRef,
    ) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
        let entry = self
            .entry(table)
            .ok_or_else(|| Error::undefined_table(table))?;
        let mut cached = entry.cached.lock().await;
        cached
            .current_provider(&entry.location, &table.to_string(), &self.options)
            .await
    }

    /// Keeps the state a statement's commit to `table` left (see [`crate::delta::CachedTable::adopt`]),
    /// so the upkeep after the commit and the next statement start from it instead of replaying
    /// the commit again.
    pub async fn adopt(&self, table: &TableRef, committed: &DeltaTable) {
        if let Some(entry) = self.entry(table) {
            entry.cached.lock().await.adopt(committed);
        }
    }

    /// After a statement committed to `table`: a checkpoint when one is due (see
    /// [`crate::delta::checkpoint_if_due`]), and auto-compaction in the background when the table
    /// asks for it and has piled up small files. The commit already happened, so a failure here
    /// is logged, not returned: the next commit tries again.
    pub async fn after_commit(&self, table: &TableRef) {
        let started = std::time::Instant::now();
        let upkeep = async {
            let loaded = self.load(table).await?;
            crate::delta::checkpoint_if_due(&loaded).await?;
            if crate::delta::compaction_due(&loaded)? {
                self.compact_in_background(table);
            }
            Ok::<_, Error>(())
        };
        if let Err(e) = upkeep.await {
            tracing::warn!(%table, error = %e.message, "log upkeep failed; the next commit retries");
        }
        tracing::debug!(%table, elapsed_us = started.elapsed().as_micros() as u64, "after-commit upkeep");
    }

    /// Runs auto-compaction of `table` on its own task, holding the table's write turn so it
    /// never fails a user's statement: it starts only when no statement of this server is
    /// rewriting the table (else the next commit tries again), and statements that come while it
    /// runs wait for it. Writers elsewhere that conflict with it win: its commit fails, is
    /// logged, and a later commit retries.
    ///
    /// The files to compact are chosen from the table as it is once the turn is held, never from
    /// a state read before: a compaction that committed in between would otherwise be done again
    /// (delta-rs does not count two commits removing the same file with `dataChange = false` as
    /// a conflict, so both would land and the rows be doubled).
    fn compact_in_background(&self, table: &TableRef) {
        let Some(entry) = self.entry(table) else {
            return;
        };
        let Ok(turn) = entry.writers.clone().try_lock_owned() else {
            return;
        };
        let table = table.clone();
        let storage = self.storage_options().clone();
        tokio::spawn(async move {
            let _turn = turn;
            let started = std::time::Instant::now();
            let compaction = async {
                let current = entry
                    .cached
                    .lock()
                    .await
                    .current(&entry.location, &table.to_string(), &storage)
                    .await?;
                if !crate::delta::compaction_due(&current)? {
                    return Ok(None);
                }
                crate::delta::compact(current, &storage).await.map(Some)
            };
            match compaction.await {
                Ok(Some(metrics)) => tracing::info!(
                    %table,
                    files_removed = metrics.num_files_removed,
                    files_added = metrics.num_files_added,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "auto-compaction committed"
                ),
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(%table, error = %e.message, "auto-compaction did not commit")
                }
            }
        });
    }

    /// Waits for `table`'s write turn: statements that rewrite the same table run one after the
    /// other, in arrival order. `timeout` is the session's `lock_timeout` (None waits as long as
    /// the statement may run); when it passes the statement fails with 55P03, as PostgreSQL's does.
    pub async fn write_turn(
        &self,
        table: &TableRef,
        timeout: Option<std::time::Duration>,
    ) -> Result<WriteTurn> {
        let entry = self
            .entry(table)
            .ok_or_else(|| Error::undefined_table(table))?;
        let turn = entry.writers.clone().lock_owned();
        let guard = match timeout {
            Some(timeout) => tokio::time::timeout(timeout, turn).await.map_err(|_| {
                Error::new(
                    ErrorKind::LockNotAvailable,
                    "canceling statement due to lock timeout",
                )
                .with_detail(format!(
                    "another statement of this server was still writing {table}"
                ))
            })?,
            None => turn.await,
        };
        Ok(WriteTurn { _guard: guard })
    }

    /// Creates a schema directory. Returns false when it existed and `if_not_exists` is set.
    pub async fn create_schema(&self, schema: &str, if_not_exists: bool) -> Result<bool> {
        if self.schema_exists(schema) {
            return if if_not_exists {
                Ok(false)
            } else {
                Err(Error::new(
                    ErrorKind::DuplicateSchema,
                    format!("schema \"{schema}\" already exists"),
                ))
            };
        }
        check_name(schema)?;
        self.warehouse.create_schema(schema).await?;
        self.schemas.write().entry(schema.to_string()).or_default();
        Ok(true)
    }

    /// Drops a schema; with `cascade` its tables go too, else it must be empty.
    pub async fn drop_schema(&self, schema: &str, if_exists: bool, cascade: bool) -> Result<bool> {
        let tables = match self.schemas.read().get(schema) {
            Some(t) => t.keys().cloned().collect::<Vec<_>>(),
            None if if_exists => return Ok(false),
            None => {
                return Err(Error::new(
                    ErrorKind::UndefinedSchema,
                    format!("schema \"{schema}\" does not exist"),
                ));
            }
        };
        if schema == DEFAULT_SCHEMA {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                "cannot drop schema \"public\": it is the default schema",
            ));
        }
        let views: Vec<TableRef> = self
            .views
            .read()
            .values()
            .filter(|v| v.schema == schema || v.depends_on.iter().any(|d| d.schema == schema))
            .map(|v| v.table_ref())
            .collect();
        if !cascade && (!tables.is_empty() || !views.is_empty()) {
            let mut held = tables.clone();
            held.extend(views.iter().map(|v| v.to_string()));
            return Err(Error::new(
                ErrorKind::DependentObjectsStillExist,
                format!(
                    "cannot drop schema \"{schema}\" because it holds tables or views: {}",
                    held.join(", ")
                ),
            )
            .with_hint("use DROP SCHEMA ... CASCADE to drop them too"));
        }
        self.drop_views(&views).await?;
        for table in tables {
            self.drop_table(
                &TableRef {
                    schema: schema.to_string(),
                    table,
                },
                true,
            )
            .await?;
        }
        self.warehouse.remove_schema(schema).await?;
        self.schemas.write().remove(schema);
        Ok(true)
    }

    /// Registers a table whose Delta log now exists at `location`.
    pub async fn register_table(
        &self,
        table: &TableRef,
        location: Url,
        external: bool,
    ) -> Result<()> {
        if external {
            self.warehouse
                .update_catalog(|file| {
                    file.tables
                        .retain(|t| !(t.schema == table.schema && t.name == table.table));
                    file.tables.push(ExternalTable {
                        schema: table.schema.clone(),
                        name: table.table.clone(),
                        location: location.to_string(),
                    });
                    Ok(())
                })
                .await?;
        }
        self.schemas
            .write()
            .entry(table.schema.clone())
            .or_default()
            .insert(
                table.table.clone(),
                Arc::new(TableEntry::new(location, external)),
            );
        Ok(())
    }

    /// Drops a table: a managed table's files are deleted, an external table is only forgotten.
    pub async fn drop_table(&self, table: &TableRef, if_exists: bool) -> Result<bool> {
        let Some(entry) = self.entry(table) else {
            return if if_exists {
                Ok(false)
            } else {
                Err(Error::undefined_table(table))
            };
        };
        if entry.external {
            self.warehouse
                .update_catalog(|file| {
                    file.tables
                        .retain(|t| !(t.schema == table.schema && t.name == table.table));
                    Ok(())
                })
                .await?;
        } else {
            self.warehouse.remove_table(table).await?;
        }
        if let Some(tables) = self.schemas.write().get_mut(&table.schema) {
            tables.remove(&table.table);
        }
        Ok(true)
    }
}

/// Views.
impl DeltaCatalog {
    /// The view named `name`, if there is one.
    pub fn view(&self, name: &TableRef) -> Option<Arc<ViewDef>> {
        self.views.read().get(name).cloned()
    }

    /// View names of `schema`, sorted.
    pub fn view_names(&self, schema: &str) -> Vec<String> {
        self.views
            .read()
            .keys()
            .filter(|v| v.schema == schema)
            .map(|v| v.table.clone())
            .collect()
    }

    /// The views whose query reads `relation` (a table or another view).
    pub fn dependent_views(&self, relation: &TableRef) -> Vec<Arc<ViewDef>> {
        self.views
            .read()
            .values()
            .filter(|v| v.depends_on.contains(relation))
            .cloned()
            .collect()
    }

    /// Stores a view; with `replace` an existing view of the name is replaced (its columns must
    /// stay, see [`ViewDef::check_replaces`]). Hold [`Self::lock_ddl`] around it.
    pub async fn create_view(&self, def: ViewDef, replace: bool) -> Result<()> {
        let name = def.table_ref();
        if !self.schema_exists(&name.schema) {
            return Err(Error::new(
                ErrorKind::UndefinedSchema,
                format!("schema \"{}\" does not exist", name.schema),
            ));
        }
        if self.table_exists(&name) {
            return Err(Error::new(
                ErrorKind::DuplicateTable,
                format!("relation \"{}\" already exists", name.table),
            ));
        }
        if let Some(old) = self.view(&name) {
            if !replace {
                return Err(Error::new(
                    ErrorKind::DuplicateTable,
                    format!("relation \"{}\" already exists", name.table),
                ));
            }
            def.check_replaces(&old)?;
        }
        check_name(&name.table)?;
        self.warehouse
            .update_catalog(|file| {
                file.views.retain(|v| v.table_ref() != name);
                file.views.push(def.clone());
                Ok(())
            })
            .await?;
        self.views.write().insert(name, Arc::new(def));
        Ok(())
    }

    /// Renames a view to `to`, storing `followers` (the views that read it, their queries already
    /// reading `to`). Hold [`Self::lock_ddl`] around it.
    pub async fn rename_view(
        &self,
        from: &TableRef,
        to: &TableRef,
        followers: Vec<ViewDef>,
    ) -> Result<()> {
        check_name(&to.table)?;
        let Some(old) = self.view(from) else {
            return Err(Error::undefined_table(&from.table));
        };
        let mut renamed = old.as_ref().clone();
        renamed.schema = to.schema.clone();
        renamed.name = to.table.clone();
        let mut changed = followers;
        // A view cannot read itself, so the renamed view is never among its followers.
        changed.push(renamed);
        self.store_views(std::slice::from_ref(from), changed).await
    }

    /// Renames a table to `to`: a managed table's folder moves (one rename), an external
    /// table's entry changes; `followers` are stored as for [`Self::rename_view`].
    pub async fn rename_table(
        &self,
        from: &TableRef,
        to: &TableRef,
        followers: Vec<ViewDef>,
    ) -> Result<()> {
        check_name(&to.table)?;
        let entry = self
            .entry(from)
            .ok_or_else(|| Error::undefined_table(&from.table))?;
        let location = if entry.external {
            self.warehouse
                .update_catalog(|file| {
                    for t in file.tables.iter_mut() {
                        if t.schema == from.schema && t.name == from.table {
                            t.schema = to.schema.clone();
                            t.name = to.table.clone();
                        }
                    }
                    Ok(())
                })
                .await?;
            entry.location.clone()
        } else {
            self.warehouse.move_table(from, to).await?
        };
        {
            let mut schemas = self.schemas.write();
            if let Some(tables) = schemas.get_mut(&from.schema) {
                tables.remove(&from.table);
            }
            schemas.entry(to.schema.clone()).or_default().insert(
                to.table.clone(),
                Arc::new(TableEntry::new(location, entry.external)),
            );
        }
        self.store_views(&[], followers).await
    }

    /// Replaces views in the catalog file and the registry: `removed` go, `changed` are stored
    /// under their (possibly new) names.
    async fn store_views(&self, removed: &[TableRef], changed: Vec<ViewDef>) -> Result<()> {
        if removed.is_empty() && changed.is_empty() {
            return Ok(());
        }
        let replaced: Vec<TableRef> = changed.iter().map(ViewDef::table_ref).collect();
        self.warehouse
            .update_catalog(|file: &mut CatalogFile| {
                file.views.retain(|v| {
                    let name = v.table_ref();
                    !removed.contains(&name) && !replaced.contains(&name)
                });
                file.views.extend(changed.iter().cloned());
                Ok(())
            })
            .await?;
        let mut views = self.views.write();
        for name in removed {
            views.remove(name);
        }
        for view in changed {
            views.insert(view.table_ref(), Arc::new(view));
        }
        Ok(())
    }

    /// Removes views (DROP VIEW, or the views a CASCADE takes along).
    pub async fn drop_views(&self, names: &[TableRef]) -> Result<()> {
        if names.is_empty() {
            // DROP TABLE and DROP SCHEMA call this for their dependent views, usually none.
            return Ok(());
        }
        self.warehouse
            .update_catalog(|file| {
                file.views.retain(|v| !names.contains(&v.table_ref()));
                Ok(())
            })
            .await?;
        let mut views = self.views.write();
        for name in names {
            views.remove(name);
        }
        Ok(())
    }
}

impl TableEntry {
    fn new(location: Url, external: bool) -> Self {
        Self {
            location,
            external,
            cached: Default::default(),
            writers: Default::default(),
        }
    }
}

/// Names become directory names: refuse what a file system would misread.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.contains(['/', '\\', '\0'])
        || name == "."
        || name == ".."
        || is_hidden(name)
    {
        return Err(Error::new(
            ErrorKind::Syntax,
            format!(
                "invalid name \"{name}\": names may not be empty, start with '.' or '_', or contain '/'"
            ),
        ));
    }
    Ok(())
}

/// Validates a table name before anything is written for it.
pub(crate) fn validate_table_name(table: &TableRef) -> Result<()> {
    check_name(&table.schema)?;
    check_name(&table.table)
}

/// A directory path as a `file://` URL with a trailing slash, the form delta-rs expects.
pub(crate) fn dir_url(path: &Path) -> Result<Url> {
    let canonical = std::fs::canonicalize(path)?;
    Url::from_directory_path(&canonical)
        .map_err(|_| Error::internal(format!("cannot turn {} into a URL", canonical.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_the_catalog_is_locked_does_not_lock_everyone_out() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Arc::new(
            DeltaCatalog::open(&dir.path().join("data"), StorageOptions::default(), false)
                .await
                .unwrap(),
        );
        let held = catalog.clone();
        let panicked = std::thread::spawn(move || {
            let _guard = held.schemas.write();
            panic!("a bug while the catalog is locked");
        })
        .join();
        assert!(panicked.is_err());
        // Every later session still reads and writes the catalog.
        assert!(catalog.schema_exists("public"));
        assert!(
            catalog
                .create_schema("after_the_panic", false)
                .await
                .unwrap()
        );
        assert!(
            catalog
                .schema_names()
                .contains(&"after_the_panic".to_string())
        );
    }
}
