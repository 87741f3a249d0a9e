//! [`DeltaCatalog`]: the registry of schemas and Delta tables, rebuilt from the data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

// parking_lot's locks do not poison: a panic while one is held cannot lock every later
// session out of the catalog.
use parking_lot::RwLock;

use deltalake::DeltaTable;
use serde::{Deserialize, Serialize};
use url::Url;

use super::DEFAULT_SCHEMA;
use super::catalog_file::{self, ExternalTable};
use super::views::ViewDef;
use crate::error::{Error, ErrorKind, Result};

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
    data_dir: PathBuf,
    schemas: RwLock<BTreeMap<String, BTreeMap<String, Arc<TableEntry>>>>,
    /// Every view, by name.
    views: RwLock<BTreeMap<TableRef, Arc<ViewDef>>>,
    /// Serialises catalog changes (CREATE/DROP) so the directory and the registry move together.
    ddl_lock: tokio::sync::Mutex<()>,
}

impl DeltaCatalog {
    /// Opens (creating when missing) the data directory and registers every table found in it.
    pub fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir.join(DEFAULT_SCHEMA)).map_err(|e| {
            Error::new(
                ErrorKind::IoError,
                format!("cannot create data directory {}: {e}", data_dir.display()),
            )
        })?;
        let data_dir = std::fs::canonicalize(data_dir)?;
        let mut schemas: BTreeMap<String, BTreeMap<String, Arc<TableEntry>>> = BTreeMap::new();
        for schema_dir in std::fs::read_dir(&data_dir)? {
            let schema_dir = schema_dir?;
            let schema_name = schema_dir.file_name().to_string_lossy().to_string();
            if !schema_dir.file_type()?.is_dir() || is_hidden(&schema_name) {
                continue;
            }
            let tables = schemas.entry(schema_name).or_default();
            for table_dir in std::fs::read_dir(schema_dir.path())? {
                let table_dir = table_dir?;
                let name = table_dir.file_name().to_string_lossy().to_string();
                if is_hidden(&name) || !table_dir.path().join("_delta_log").is_dir() {
                    continue;
                }
                tables.insert(
                    name,
                    Arc::new(TableEntry::new(dir_url(&table_dir.path())?, false)),
                );
            }
        }
        let file = catalog_file::read(&data_dir)?;
        let views = file
            .views
            .into_iter()
            .filter(|v| schemas.contains_key(&v.schema))
            .map(|v| (v.table_ref(), Arc::new(v)))
            .collect();
        for t in file.tables {
            let url = Url::parse(&t.location)
                .map_err(|e| Error::internal(format!("bad location in catalog file: {e}")))?;
            schemas
                .entry(t.schema)
                .or_default()
                .insert(t.name, Arc::new(TableEntry::new(url, true)));
        }
        Ok(Self {
            data_dir,
            schemas: RwLock::new(schemas),
            views: RwLock::new(views),
            ddl_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The (canonical) data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
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

    /// The directory a new managed table gets.
    pub fn managed_path(&self, table: &TableRef) -> PathBuf {
        self.data_dir.join(&table.schema).join(&table.table)
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
            .current(&entry.location, &table.to_string())
            .await?;
        tracing::debug!(%table, version = loaded.version(), elapsed_us = started.elapsed().as_micros() as u64, "table state loaded");
        Ok(loaded)
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
                self.compact_in_background(table, loaded);
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
    fn compact_in_background(&self, table: &TableRef, loaded: DeltaTable) {
        let Some(entry) = self.entry(table) else {
            return;
        };
        let Ok(turn) = entry.writers.clone().try_lock_owned() else {
            return;
        };
        let table = table.clone();
        tokio::spawn(async move {
            let _turn = turn;
            let started = std::time::Instant::now();
            match crate::delta::compact(loaded).await {
                Ok(metrics) => tracing::info!(
                    %table,
                    files_removed = metrics.num_files_removed,
                    files_added = metrics.num_files_added,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "auto-compaction committed"
                ),
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
    pub fn create_schema(&self, schema: &str, if_not_exists: bool) -> Result<bool> {
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
        std::fs::create_dir_all(self.data_dir.join(schema))?;
        self.schemas.write().entry(schema.to_string()).or_default();
        Ok(true)
    }

    /// Drops a schema; with `cascade` its tables go too, else it must be empty.
    pub fn drop_schema(&self, schema: &str, if_exists: bool, cascade: bool) -> Result<bool> {
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
        self.drop_views(&views)?;
        for table in tables {
            self.drop_table(
                &TableRef {
                    schema: schema.to_string(),
                    table,
                },
                true,
            )?;
        }
        let dir = self.data_dir.join(schema);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        self.schemas.write().remove(schema);
        Ok(true)
    }

    /// Registers a table whose Delta log now exists at `location`.
    pub fn register_table(&self, table: &TableRef, location: Url, external: bool) -> Result<()> {
        if external {
            let _file_lock = catalog_file::lock();
            let mut file = catalog_file::read(&self.data_dir)?;
            file.tables
                .retain(|t| !(t.schema == table.schema && t.name == table.table));
            file.tables.push(ExternalTable {
                schema: table.schema.clone(),
                name: table.table.clone(),
                location: location.to_string(),
            });
            catalog_file::write(&self.data_dir, &file)?;
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
    pub fn drop_table(&self, table: &TableRef, if_exists: bool) -> Result<bool> {
        let Some(entry) = self.entry(table) else {
            return if if_exists {
                Ok(false)
            } else {
                Err(Error::undefined_table(table))
            };
        };
        if entry.external {
            let _file_lock = catalog_file::lock();
            let mut file = catalog_file::read(&self.data_dir)?;
            file.tables
                .retain(|t| !(t.schema == table.schema && t.name == table.table));
            catalog_file::write(&self.data_dir, &file)?;
        } else {
            // Remove the log first so a crash half-way leaves a folder that is no longer a table.
            let dir = self.managed_path(table);
            let log = dir.join("_delta_log");
            if log.exists() {
                std::fs::remove_dir_all(&log)?;
            }
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
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
    pub fn create_view(&self, def: ViewDef, replace: bool) -> Result<()> {
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
        let _file_lock = catalog_file::lock();
        let mut file = catalog_file::read(&self.data_dir)?;
        file.views.retain(|v| v.table_ref() != name);
        file.views.push(def.clone());
        catalog_file::write(&self.data_dir, &file)?;
        self.views.write().insert(name, Arc::new(def));
        Ok(())
    }

    /// Renames a view to `to`, storing `followers` (the views that read it, their queries already
    /// reading `to`). Hold [`Self::lock_ddl`] around it.
    pub fn rename_view(
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
        self.store_views(std::slice::from_ref(from), changed)
    }

    /// Renames a table to `to`: a managed table's folder moves (one rename), an external
    /// table's entry changes; `followers` are stored as for [`Self::rename_view`].
    pub fn rename_table(
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
            let _file_lock = catalog_file::lock();
            let mut file = catalog_file::read(&self.data_dir)?;
            for t in file.tables.iter_mut() {
                if t.schema == from.schema && t.name == from.table {
                    t.schema = to.schema.clone();
                    t.name = to.table.clone();
                }
            }
            catalog_file::write(&self.data_dir, &file)?;
            entry.location.clone()
        } else {
            let (old_dir, new_dir) = (self.managed_path(from), self.managed_path(to));
            std::fs::rename(&old_dir, &new_dir).map_err(|e| {
                Error::new(
                    ErrorKind::IoError,
                    format!("cannot move table folder to {}: {e}", new_dir.display()),
                )
            })?;
            dir_url(&new_dir)?
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
        self.store_views(&[], followers)
    }

    /// Replaces views in the catalog file and the registry: `removed` go, `changed` are stored
    /// under their (possibly new) names.
    fn store_views(&self, removed: &[TableRef], changed: Vec<ViewDef>) -> Result<()> {
        if removed.is_empty() && changed.is_empty() {
            return Ok(());
        }
        let replaced: Vec<TableRef> = changed.iter().map(ViewDef::table_ref).collect();
        let _file_lock = catalog_file::lock();
        let mut file = catalog_file::read(&self.data_dir)?;
        file.views.retain(|v| {
            let name = v.table_ref();
            !removed.contains(&name) && !replaced.contains(&name)
        });
        file.views.extend(changed.iter().cloned());
        catalog_file::write(&self.data_dir, &file)?;
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
    pub fn drop_views(&self, names: &[TableRef]) -> Result<()> {
        if names.is_empty() {
            // DROP TABLE and DROP SCHEMA call this for their dependent views, usually none.
            return Ok(());
        }
        let _file_lock = catalog_file::lock();
        let mut file = catalog_file::read(&self.data_dir)?;
        file.views.retain(|v| !names.contains(&v.table_ref()));
        catalog_file::write(&self.data_dir, &file)?;
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

fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
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

    #[test]
    fn a_panic_while_the_catalog_is_locked_does_not_lock_everyone_out() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Arc::new(DeltaCatalog::open(&dir.path().join("data")).unwrap());
        let held = catalog.clone();
        let panicked = std::thread::spawn(move || {
            let _guard = held.schemas.write();
            panic!("a bug while the catalog is locked");
        })
        .join();
        assert!(panicked.is_err());
        // Every later session still reads and writes the catalog.
        assert!(catalog.schema_exists("public"));
        assert!(catalog.create_schema("after_the_panic", false).unwrap());
        assert!(
            catalog
                .schema_names()
                .contains(&"after_the_panic".to_string())
        );
    }
}
