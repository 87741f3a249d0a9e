//! Reading files in SQL (`read_parquet('glob')`) and the path confinement every file path a user
//! writes (LOCATION, read_parquet) goes through: only the data directory and `storage.allowed_paths`
//! may be touched, after canonicalisation, so `..` and symlinks cannot escape.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::Expr;

use url::Url;

use super::Warehouse;
use crate::delta::StorageOptions;
use crate::error::{Error, ErrorKind, Result};

/// The directories and object-store prefixes user-given paths must stay inside.
#[derive(Debug, Clone)]
pub struct AllowedPaths {
    roots: Vec<PathBuf>,
    /// Object-store prefixes, as URLs ending in `/`.
    url_roots: Vec<String>,
}

/// A user-given location once checked: a local path (canonical) or an object-store URL.
#[derive(Debug, Clone)]
pub enum CheckedLocation {
    /// A local file, folder or glob.
    Local(PathBuf),
    /// An object-store URL (folders end in `/`).
    Store(Url),
}

impl AllowedPaths {
    /// The data directory plus the configured extra directories and URL prefixes (local ones
    /// canonicalised; missing ones are kept by their absolute path, since nothing can be under
    /// them yet).
    pub fn new(warehouse: &Warehouse, extra: &[PathBuf]) -> Self {
        let mut roots = Vec::new();
        let mut url_roots = Vec::new();
        match warehouse {
            Warehouse::Local(dir) => roots.push(dir.clone()),
            Warehouse::Store { url, .. } => url_roots.push(url.to_string()),
        }
        for path in extra {
            match crate::delta::object_store_url(&path.to_string_lossy()) {
                Some(Ok(url)) => url_roots.push(crate::delta::dir_form(url).to_string()),
                Some(Err(e)) => {
                    tracing::warn!(error = %e.message, "ignoring an allowed_paths entry")
                }
                None => {
                    // A directory that does not exist yet (an input folder made later) is kept by
                    // its absolute path; once it exists, its canonical path is the same unless it
                    // is a link.
                    if let Ok(p) =
                        std::fs::canonicalize(path).or_else(|_| std::path::absolute(path))
                    {
                        roots.push(p);
                    }
                }
            }
        }
        Self { roots, url_roots }
    }

    /// Checks a location that may be a local path or an object-store URL (LOCATION,
    /// read_parquet); 42501 when it is outside every allowed root.
    pub fn check_location(&self, location: &str) -> Result<CheckedLocation> {
        match crate::delta::object_store_url(location) {
            None => self.check(location).map(CheckedLocation::Local),
            Some(url) => {
                let url = url?;
                let as_dir = crate::delta::dir_form(url.clone());
                if self
                    .url_roots
                    .iter()
                    .any(|root| as_dir.as_str().starts_with(root.as_str()))
                {
                    Ok(CheckedLocation::Store(url))
                } else {
                    Err(outside(location))
                }
            }
        }
    }

    /// The canonical form of a local `location` (a path, `file://` URL or glob), if it is inside
    /// an allowed directory; 42501 otherwise. For a path that does not exist yet, its nearest
    /// existing ancestor decides.
    pub fn check(&self, location: &str) -> Result<PathBuf> {
        let raw = location.strip_prefix("file://").unwrap_or(location);
        if raw.contains("://") {
            return Err(Error::unsupported(format!(
                "{location}: only local paths are supported here"
            )));
        }
        let literal_part = match raw.find(['*', '?', '[', '{']) {
            Some(i) => &raw[..i],
            None => raw,
        };
        let path = Path::new(literal_part);
        let mut existing = path;
        let canonical = loop {
            match std::fs::canonicalize(existing) {
                Ok(c) => break c,
                Err(_) => match existing.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => existing = parent,
                    _ => break PathBuf::from(existing),
                },
            }
        };
        if self.roots.iter().any(|root| canonical.starts_with(root)) {
            Ok(canonical.join(path.strip_prefix(existing).unwrap_or(Path::new(""))))
        } else {
            Err(outside(location))
        }
    }
}

fn outside(location: &str) -> Error {
    Error::new(
        ErrorKind::InsufficientPrivilege,
        format!("path {location} is outside the directories deltagres may read and write"),
    )
    .with_hint("add its directory (or URL prefix) to storage.allowed_paths in the config")
}

/// `read_parquet('path or glob')`: the parquet files as a table (schema read from the files).
#[derive(Debug)]
pub struct ReadParquet {
    allowed: AllowedPaths,
    storage: StorageOptions,
}

impl ReadParquet {
    /// A `read_parquet` confined to `allowed`, reaching object stores with `storage`.
    pub fn new(allowed: AllowedPaths, storage: StorageOptions) -> Self {
        Self { allowed, storage }
    }
}

impl TableFunctionImpl for ReadParquet {
    fn call_with_args(&self, args: TableFunctionArgs) -> DfResult<Arc<dyn TableProvider>> {
        let path = match args.exprs() {
            [
                Expr::Literal(
                    ScalarValue::Utf8(Some(p))
                    | ScalarValue::Utf8View(Some(p))
                    | ScalarValue::LargeUtf8(Some(p)),
                    _,
                ),
            ] => p.clone(),
            _ => {
                return Err(DataFusionError::Plan(
                    "read_parquet takes one string: a file, a directory or a glob".into(),
                ));
            }
        };
        let checked = self
            .allowed
            .check_location(&path)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let session = args.session();
        if let CheckedLocation::Store(url) = &checked {
            // DataFusion reads object-store URLs through its registry: the bucket's store, built
            // by delta-rs's handlers with this server's options.
            let store = self
                .storage
                .log_store(url)
                .map_err(|e| DataFusionError::External(Box::new(e)))?
                .root_object_store(None);
            let bucket = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
            let bucket = Url::parse(&bucket).map_err(|e| DataFusionError::External(Box::new(e)))?;
            session.runtime_env().register_object_store(&bucket, store);
        }
        let url = match &checked {
            // DataFusion splits a glob off local paths only: split it off a URL here.
            CheckedLocation::Store(_) => match path.find(['*', '?', '[']) {
                Some(first) => {
                    let cut = path[..first].rfind('/').map_or(0, |i| i + 1);
                    ListingTableUrl::parse(&path[..cut])?.with_glob(&path[cut..])?
                }
                None => ListingTableUrl::parse(&path)?,
            },
            CheckedLocation::Local(_) => ListingTableUrl::parse(&path)?,
        };
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new(url).with_listing_options(options);
        let config = block_on(config.infer_schema(session))?;
        Ok(Arc::new(ListingTable::try_new(config)?))
    }
}

/// Table functions are planned synchronously, but schema inference reads file footers and the
/// skew report runs a query: run such work to completion on the current runtime.
pub(super) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(future)),
        Err(_) => futures::executor::block_on(future),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_outside_the_allowed_roots_are_refused() {
        let dir = tempfile_dir();
        let allowed = AllowedPaths::new(&Warehouse::Local(dir.canonicalize().unwrap()), &[]);
        assert!(allowed.check(dir.join("t").to_str().unwrap()).is_ok());
        assert!(
            allowed
                .check(&format!("{}/sub/*.parquet", dir.display()))
                .is_ok()
        );
        let escape = format!("{}/../", dir.display());
        assert_eq!(allowed.check(&escape).unwrap_err().sqlstate(), "42501");
        assert_eq!(
            allowed.check("/etc/passwd").unwrap_err().sqlstate(),
            "42501"
        );
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("deltagres-allowed-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
