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

use crate::error::{Error, ErrorKind, Result};

/// The directories user-given paths must stay inside.
#[derive(Debug, Clone)]
pub struct AllowedPaths {
    roots: Vec<PathBuf>,
}

impl AllowedPaths {
    /// The data directory plus the configured extra directories (canonicalised; missing ones are
    /// skipped, since nothing can be under them yet).
    pub fn new(data_dir: &Path, extra: &[PathBuf]) -> Self {
        let roots = std::iter::once(data_dir.to_path_buf())
            .chain(extra.iter().cloned())
            // A directory that does not exist yet (an input folder made later) is kept by its
            // absolute path; once it exists, its canonical path is the same unless it is a link.
            .filter_map(|p| {
                std::fs::canonicalize(&p)
                    .or_else(|_| std::path::absolute(&p))
                    .ok()
            })
            .collect();
        Self { roots }
    }

    /// The canonical form of `location` (a path, `file://` URL or glob), if it is inside an allowed
    /// directory; 42501 otherwise. For a path that does not exist yet, its nearest existing
    /// ancestor decides.
    pub fn check(&self, location: &str) -> Result<PathBuf> {
        let raw = location.strip_prefix("file://").unwrap_or(location);
        if raw.contains("://") {
            return Err(Error::unsupported(format!(
                "{location}: only local paths are supported so far"
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
            Err(Error::new(
                ErrorKind::InsufficientPrivilege,
                format!("path {location} is outside the directories deltagres may read and write"),
            )
            .with_hint("add its directory to storage.allowed_paths in the config"))
        }
    }
}

/// `read_parquet('path or glob')`: the parquet files as a table (schema read from the files).
#[derive(Debug)]
pub struct ReadParquet {
    allowed: AllowedPaths,
}

impl ReadParquet {
    /// A `read_parquet` confined to `allowed`.
    pub fn new(allowed: AllowedPaths) -> Self {
        Self { allowed }
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
        self.allowed
            .check(&path)
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        let session = args.session();
        let url = ListingTableUrl::parse(&path)?;
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
        let allowed = AllowedPaths::new(&dir, &[]);
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
