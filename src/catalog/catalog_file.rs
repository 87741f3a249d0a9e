//! `data_dir/_catalog.json`: what the data directory cannot say by itself. External tables (their
//! Delta log lives somewhere else) and views (a query, no data). Written whole and atomically, so
//! a crash leaves the old file or the new one, never half of one (locally: temp file + rename;
//! on an object store one put, see [`super::warehouse`]).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::views::ViewDef;
use crate::error::{Error, Result};

/// The file's name inside the data directory.
pub(super) const FILE_NAME: &str = "_catalog.json";

/// The file's contents.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct CatalogFile {
    /// Tables created with `LOCATION` outside the data directory.
    #[serde(default)]
    pub tables: Vec<ExternalTable>,
    /// Every view.
    #[serde(default)]
    pub views: Vec<ViewDef>,
}

/// An external table: a name for a Delta table elsewhere.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ExternalTable {
    pub schema: String,
    pub name: String,
    pub location: String,
}

/// Reads the file; a data directory without one has nothing external and no views.
pub(super) fn read(data_dir: &Path) -> Result<CatalogFile> {
    let path = data_dir.join(FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => parse(&bytes, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(CatalogFile::default()),
        Err(e) => Err(e.into()),
    }
}

/// The file's contents from its bytes; `name` words the error.
pub(super) fn parse(bytes: &[u8], name: &str) -> Result<CatalogFile> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::internal(format!("corrupt catalog file {name}: {e}")))
}

/// The file's bytes.
pub(super) fn encode(file: &CatalogFile) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(file)
        .map_err(|e| Error::internal(format!("cannot encode catalog file: {e}")))
}

/// Serializes the read-modify-write of the file: take it before [`read`] and hold it past
/// [`write`], so two statements changing views or external tables at once (dbt runs models on
/// several connections) neither lose the other's change nor race on the temp file.
pub(super) async fn lock() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// Writes the file atomically: temp file (named for this write), fsync, rename.
pub(super) fn write(data_dir: &Path, file: &CatalogFile) -> Result<()> {
    use std::io::Write;
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = data_dir.join(FILE_NAME);
    let tmp = data_dir.join(format!("{FILE_NAME}.{}.{n}.tmp", std::process::id()));
    let bytes = encode(file)?;
    let mut out = std::fs::File::create(&tmp)?;
    out.write_all(&bytes)?;
    out.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}
