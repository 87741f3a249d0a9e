//! [`Warehouse`]: the data directory the catalog lives in, a local folder or an object-store
//! prefix, and the few things the catalog does to it: list schemas and tables, make and remove
//! a schema, remove or move a managed table's files, and read and change the catalog file.
//!
//! On an object store there are no folders: a schema is a prefix holding a `_schema` marker or
//! tables, a table is a prefix holding `_delta_log/`. The catalog file is changed with a
//! conditional put (If-Match on the version read, If-None-Match when there was none), so two
//! servers changing it at once both land: the loser reads again and redoes its change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::{StreamExt, TryStreamExt};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, UpdateVersion};
use url::Url;

use super::TableRef;
use super::catalog_file::{self, CatalogFile};
use crate::delta::StorageOptions;
use crate::error::{Error, ErrorKind, Result};

/// The marker object that makes an empty schema exist on an object store.
const SCHEMA_MARKER: &str = "_schema";
/// How many times a conditional change of the catalog file is redone after losing a race.
const CATALOG_RETRIES: usize = 50;

/// Where the managed tables and the catalog file live.
#[derive(Debug, Clone)]
pub enum Warehouse {
    /// A local folder (canonical path).
    Local(PathBuf),
    /// An object-store prefix: its URL (with a trailing slash) and a store rooted at it.
    Store {
        /// `s3://bucket/prefix/`.
        url: Url,
        /// Paths are relative to `url`.
        store: Arc<dyn ObjectStore>,
    },
}

impl std::fmt::Display for Warehouse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(dir) => write!(f, "{}", dir.display()),
            Self::Store { url, .. } => write!(f, "{url}"),
        }
    }
}

impl Warehouse {
    /// Opens `data_dir` (a path or an object-store URL), creating a local folder when missing.
    /// On an object store, checks that commits there are atomic unless `allow_unsafe_commits`.
    pub async fn open(
        data_dir: &Path,
        options: &StorageOptions,
        allow_unsafe_commits: bool,
    ) -> Result<Self> {
        let text = data_dir.to_string_lossy();
        let Some(url) = crate::delta::object_store_url(&text) else {
            let dir = match text.strip_prefix("file://") {
                Some(path) => PathBuf::from(path),
                None => data_dir.to_path_buf(),
            };
            std::fs::create_dir_all(dir.join(super::DEFAULT_SCHEMA)).map_err(|e| {
                Error::new(
                    ErrorKind::IoError,
                    format!("cannot create data directory {}: {e}", dir.display()),
                )
            })?;
            return Ok(Self::Local(std::fs::canonicalize(dir)?));
        };
        let url = crate::delta::dir_form(url?);
        let store = options.log_store(&url)?.object_store(None);
        if allow_unsafe_commits {
            tracing::warn!(%url, "storage.allow_unsafe_commits is set: commits are not checked to be atomic");
        } else {
            crate::delta::check_atomic_commits(store.as_ref(), &StorePath::default(), &url).await?;
        }
        let warehouse = Self::Store { url, store };
        warehouse.create_schema(super::DEFAULT_SCHEMA).await?;
        Ok(warehouse)
    }

    /// The local folder, when the data directory is one.
    pub fn local_dir(&self) -> Option<&Path> {
        match self {
            Self::Local(dir) => Some(dir),
            Self::Store { .. } => None,
        }
    }

    /// The data directory as a URL with a trailing slash.
    pub fn url(&self) -> Result<Url> {
        match self {
            Self::Local(dir) => super::dir_url(dir),
            Self::Store { url, .. } => Ok(url.clone()),
        }
    }

    /// The URL of an existing managed table.
    pub fn table_url(&self, table: &TableRef) -> Result<Url> {
        match self {
            Self::Local(dir) => super::dir_url(&dir.join(&table.schema).join(&table.table)),
            Self::Store { url, .. } => table_url(url, table),
        }
    }

    /// Every schema and the managed tables in it.
    pub async fn scan(&self) -> Result<BTreeMap<String, Vec<String>>> {
        let mut schemas = BTreeMap::new();
        for schema in self.list_schemas().await? {
            let tables = self.list_tables(&schema).await?;
            schemas.insert(schema, tables);
        }
        Ok(schemas)
    }

    async fn list_schemas(&self) -> Result<Vec<String>> {
        match self {
            Self::Local(dir) => {
                let mut names = Vec::new();
                for entry in std::fs::read_dir(dir)? {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().to_string();
                    if entry.file_type()?.is_dir() && !is_hidden(&name) {
                        names.push(name);
                    }
                }
                Ok(names)
            }
            Self::Store { store, .. } => Ok(child_prefixes(store.as_ref(), None)
                .await?
                .into_iter()
                .filter(|name| !is_hidden(name))
                .collect()),
        }
    }

    async fn list_tables(&self, schema: &str) -> Result<Vec<String>> {
        match self {
            Self::Local(dir) => {
                let mut names = Vec::new();
                let entries = match std::fs::read_dir(dir.join(schema)) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(names),
                    Err(e) => return Err(e.into()),
                };
                for entry in entries {
                    let entry = entry?;
                    let name = entry.file_name().to_string_lossy().to_string();
                    if !is_hidden(&name) && entry.path().join("_delta_log").is_dir() {
                        names.push(name);
                    }
                }
                Ok(names)
            }
            Self::Store { store, .. } => {
                let schema_path = StorePath::from(schema);
                let candidates: Vec<String> = child_prefixes(store.as_ref(), Some(&schema_path))
                    .await?
                    .into_iter()
                    .filter(|name| !is_hidden(name))
                    .collect();
                // One listing per candidate: is there a `_delta_log/` in it?
                let checked = futures::stream::iter(candidates)
                    .map(|name| {
                        let path = schema_path.clone().join(name.as_str());
                        async move {
                            let children = child_prefixes(store.as_ref(), Some(&path)).await?;
                            Ok::<_, Error>(
                                children.iter().any(|c| c == "_delta_log").then_some(name),
                            )
                        }
                    })
                    .buffer_unordered(16)
                    .try_collect::<Vec<_>>()
                    .await?;
                let mut names: Vec<String> = checked.into_iter().flatten().collect();
                names.sort();
                Ok(names)
            }
        }
    }

    /// Makes `schema` exist (a folder, or a marker object).
    pub async fn create_schema(&self, schema: &str) -> Result<()> {
        match self {
            Self::Local(dir) => Ok(std::fs::create_dir_all(dir.join(schema))?),
            Self::Store { store, .. } => {
                check_store_name(schema)?;
                let marker = StorePath::from(schema).join(SCHEMA_MARKER);
                store
                    .put(&marker, bytes::Bytes::new().into())
                    .await
                    .map_err(store_error)?;
                Ok(())
            }
        }
    }

    /// Removes what is left of a schema whose tables are gone.
    pub async fn remove_schema(&self, schema: &str) -> Result<()> {
        match self {
            Self::Local(dir) => {
                let dir = dir.join(schema);
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                Ok(())
            }
            Self::Store { store, .. } => {
                // Another server may have made a table here since this one last looked.
                let left = self.list_tables(schema).await?;
                if !left.is_empty() {
                    return Err(Error::new(
                        ErrorKind::DependentObjectsStillExist,
                        format!(
                            "cannot drop schema \"{schema}\": it holds tables another server created: {}",
                            left.join(", ")
                        ),
                    ));
                }
                delete_prefix(store.as_ref(), &StorePath::from(schema)).await
            }
        }
    }

    /// Where a managed table lives, creating its local folder; the path is returned too when
    /// this call created it (to remove should the CREATE fail).
    pub async fn prepare_table(&self, table: &TableRef) -> Result<(Url, Option<PathBuf>)> {
        match self {
            Self::Local(dir) => {
                let path = dir.join(&table.schema).join(&table.table);
                let created = if path.exists() {
                    None
                } else {
                    std::fs::create_dir_all(&path)?;
                    Some(path.clone())
                };
                Ok((super::dir_url(&path)?, created))
            }
            Self::Store { url, .. } => {
                check_store_name(&table.schema)?;
                check_store_name(&table.table)?;
                Ok((table_url(url, table)?, None))
            }
        }
    }

    /// Removes a failed CREATE's leftovers: the folder it made, or on a store the files under a
    /// table prefix that never got a log.
    pub async fn discard_failed_create(&self, table: &TableRef, created: Option<PathBuf>) {
        match self {
            Self::Local(_) => {
                if let Some(dir) = created {
                    let _ = std::fs::remove_dir_all(dir);
                }
            }
            // Nothing is removed on a store: another server may be creating the same table right
            // now, and files no log names are never read.
            Self::Store { .. } => {
                tracing::debug!(%table, "a failed CREATE may have left unreferenced files");
            }
        }
    }

    /// Deletes a managed table's files, its log first so a crash half-way leaves no table.
    pub async fn remove_table(&self, table: &TableRef) -> Result<()> {
        match self {
            Self::Local(dir) => {
                let dir = dir.join(&table.schema).join(&table.table);
                let log = dir.join("_delta_log");
                if log.exists() {
                    std::fs::remove_dir_all(&log)?;
                }
                if dir.exists() {
                    std::fs::remove_dir_all(&dir)?;
                }
                Ok(())
            }
            Self::Store { store, .. } => {
                let prefix = table_path(table);
                delete_prefix(store.as_ref(), &prefix.clone().join("_delta_log")).await?;
                delete_prefix(store.as_ref(), &prefix).await
            }
        }
    }

    /// Moves a managed table to another name and returns its new URL. Locally one folder
    /// rename; on an object store a server-side copy of every object (data first, the log in
    /// version order, so the new prefix is a table only once its log is whole), then the old
    /// prefix is deleted log first.
    pub async fn move_table(&self, from: &TableRef, to: &TableRef) -> Result<Url> {
        match self {
            Self::Local(dir) => {
                let old_dir = dir.join(&from.schema).join(&from.table);
                let new_dir = dir.join(&to.schema).join(&to.table);
                std::fs::rename(&old_dir, &new_dir).map_err(|e| {
                    Error::new(
                        ErrorKind::IoError,
                        format!("cannot move table folder to {}: {e}", new_dir.display()),
                    )
                })?;
                super::dir_url(&new_dir)
            }
            Self::Store { url, store } => {
                check_store_name(&to.schema)?;
                check_store_name(&to.table)?;
                let (old, new) = (table_path(from), table_path(to));
                if store.list(Some(&new)).next().await.is_some() {
                    return Err(Error::new(
                        ErrorKind::DuplicateTable,
                        format!("relation \"{}\" already exists in the data directory", to.table),
                    )
                    .with_hint("another server may have created it; it is seen at the next catalog refresh"));
                }
                let mut objects: Vec<StorePath> = store
                    .list(Some(&old))
                    .map_ok(|meta| meta.location)
                    .try_collect()
                    .await
                    .map_err(store_error)?;
                let log = old.clone().join("_delta_log");
                // Data files, then log files in name (= version) order, `_last_checkpoint` last.
                objects.sort_by_key(|p| {
                    let in_log = p.prefix_match(&log).is_some();
                    let hint = p.filename() == Some("_last_checkpoint");
                    (in_log, hint, p.to_string())
                });
                let copied = async {
                    for object in &objects {
                        // Parts as they are: joining their text would encode a `%` twice.
                        let target = object
                            .prefix_match(&old)
                            .into_iter()
                            .flatten()
                            .fold(new.clone(), |path, part| path.join(part));
                        store.copy(object, &target).await.map_err(store_error)?;
                    }
                    Ok::<_, Error>(())
                };
                if let Err(e) = copied.await {
                    // The old table is whole; the half copy goes, log first.
                    let _ = delete_prefix(store.as_ref(), &new.clone().join("_delta_log")).await;
                    let _ = delete_prefix(store.as_ref(), &new).await;
                    return Err(e);
                }
                delete_prefix(store.as_ref(), &log).await?;
                delete_prefix(store.as_ref(), &old).await?;
                table_url(url, to)
            }
        }
    }

    /// The catalog file (empty when there is none).
    pub(super) async fn read_catalog(&self) -> Result<CatalogFile> {
        match self {
            Self::Local(dir) => catalog_file::read(dir),
            Self::Store { store, .. } => Ok(read_store_catalog(store.as_ref()).await?.0),
        }
    }

    /// Changes the catalog file with `change` and returns what was stored. One change at a time
    /// in this process; against other servers, a conditional put that is redone on a lost race.
    pub(super) async fn update_catalog(
        &self,
        mut change: impl FnMut(&mut CatalogFile) -> Result<()>,
    ) -> Result<CatalogFile> {
        let _lock = catalog_file::lock().await;
        match self {
            Self::Local(dir) => {
                let mut file = catalog_file::read(dir)?;
                change(&mut file)?;
                catalog_file::write(dir, &file)?;
                Ok(file)
            }
            Self::Store { store, .. } => {
                let path = StorePath::from(catalog_file::FILE_NAME);
                for _ in 0..CATALOG_RETRIES {
                    let (mut file, version) = read_store_catalog(store.as_ref()).await?;
                    change(&mut file)?;
                    let mode = match version {
                        Some(version) => PutMode::Update(version),
                        None => PutMode::Create,
                    };
                    let options = PutOptions {
                        mode,
                        ..Default::default()
                    };
                    match store
                        .put_opts(&path, catalog_file::encode(&file)?.into(), options)
                        .await
                    {
                        Ok(_) => return Ok(file),
                        Err(
                            object_store::Error::Precondition { .. }
                            | object_store::Error::AlreadyExists { .. },
                        ) => {
                            tracing::debug!(
                                "catalog file changed by another server; redoing the change"
                            );
                            tokio::time::sleep(std::time::Duration::from_millis(5 + rand_jitter()))
                                .await;
                        }
                        Err(e) => return Err(store_error(e)),
                    }
                }
                Err(Error::new(
                    ErrorKind::WriteConflict,
                    "the catalog file kept changing under this statement; try again",
                ))
            }
        }
    }
}

async fn read_store_catalog(
    store: &dyn ObjectStore,
) -> Result<(CatalogFile, Option<UpdateVersion>)> {
    let path = StorePath::from(catalog_file::FILE_NAME);
    match store.get(&path).await {
        Ok(got) => {
            let version = UpdateVersion {
                e_tag: got.meta.e_tag.clone(),
                version: got.meta.version.clone(),
            };
            let bytes = got.bytes().await.map_err(store_error)?;
            Ok((catalog_file::parse(&bytes, path.as_ref())?, Some(version)))
        }
        Err(object_store::Error::NotFound { .. }) => Ok((CatalogFile::default(), None)),
        Err(e) => Err(store_error(e)),
    }
}

/// A few milliseconds of spread so two servers that lost the same race do not collide again.
fn rand_jitter() -> u64 {
    (chrono::Utc::now().timestamp_subsec_nanos() % 20) as u64
}

/// The names of the "folders" directly under `prefix`.
async fn child_prefixes(
    store: &dyn ObjectStore,
    prefix: Option<&StorePath>,
) -> Result<Vec<String>> {
    let listed = store
        .list_with_delimiter(prefix)
        .await
        .map_err(store_error)?;
    Ok(listed
        .common_prefixes
        .iter()
        .filter_map(|p| p.filename().map(str::to_string))
        .collect())
}

/// Deletes every object under `prefix`.
async fn delete_prefix(store: &dyn ObjectStore, prefix: &StorePath) -> Result<()> {
    let locations = store
        .list(Some(prefix))
        .map_ok(|meta| meta.location)
        .boxed();
    store
        .delete_stream(locations)
        .try_collect::<Vec<_>>()
        .await
        .map_err(store_error)?;
    Ok(())
}

fn table_path(table: &TableRef) -> StorePath {
    StorePath::from(table.schema.as_str()).join(table.table.as_str())
}

fn table_url(root: &Url, table: &TableRef) -> Result<Url> {
    root.join(&format!("{}/{}/", table.schema, table.table))
        .map_err(|e| Error::internal(format!("cannot make a table URL under {root}: {e}")))
}

/// An object-store failure as one line with the storage SQLSTATE (58030).
pub(crate) fn store_error(e: object_store::Error) -> Error {
    let text = e.to_string();
    Error::new(
        ErrorKind::IoError,
        format!(
            "object store: {}",
            text.lines().next().unwrap_or(&text).trim()
        ),
    )
}

/// Schema and table names become object keys and URL segments: on a store, refuse the
/// characters either would encode or read as syntax (`%`, `?`, `#`, `~`, brackets, ...).
fn check_store_name(name: &str) -> Result<()> {
    let plain = name.chars().all(|c| {
        c.is_alphanumeric()
            || matches!(
                c,
                '_' | '-'
                    | '.'
                    | '$'
                    | '+'
                    | '='
                    | '@'
                    | ','
                    | ';'
                    | '!'
                    | '\''
                    | '('
                    | ')'
                    | '&'
                    | ' '
            )
    });
    if plain && name != "." && name != ".." {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Syntax,
            format!(
                "invalid name \"{name}\" for a data directory on an object store: use letters, digits, space and _ - . $ + = @ , ; ! ' ( ) &"
            ),
        ))
    }
}

/// Names the catalog never treats as schemas or tables (`_catalog.json`, markers, dot files).
pub(super) fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}
