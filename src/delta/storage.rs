//! Reaching tables on object storage: which locations are object-store URLs, the options delta-rs
//! and object_store need to reach them (endpoint, region, credentials, from `[storage.s3]`,
//! `[storage.options]` and the standard `AWS_*` / `GOOGLE_*` / `AZURE_*` variables, which delta-rs
//! reads itself), and the check that a store's commits are atomic.
//!
//! Every Delta table on a store is opened through delta-rs's own object stores (its `s3`, `gcs`
//! and `azure` features register the handlers); nothing here speaks HTTP.

use std::collections::HashMap;
use std::sync::Arc;

use deltalake::DeltaTableBuilder;
use deltalake::logstore::LogStoreRef;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _, PutMode, PutOptions, PutPayload};
use url::Url;

use crate::error::{Error, ErrorKind, Result};

/// Option keys whose values are secrets: never printed, logged or shown.
const SECRET_KEYS: &[&str] = &[
    "aws_secret_access_key",
    "aws_session_token",
    "aws_token",
    "google_service_account_key",
    "azure_storage_account_key",
    "azure_storage_access_key",
    "azure_storage_master_key",
    "azure_client_secret",
    "azure_storage_sas_key",
    "azure_storage_token",
];

/// The object-store options of one server, as delta-rs and object_store take them
/// (`aws_endpoint`, `aws_region`, ...). Cheap to clone; its `Debug` hides secrets.
#[derive(Clone, Default)]
pub struct StorageOptions {
    options: Arc<HashMap<String, String>>,
}

impl std::fmt::Debug for StorageOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        let mut keys: Vec<&String> = self.options.keys().collect();
        keys.sort();
        for key in keys {
            if is_secret(key) {
                map.entry(key, &"<redacted>");
            } else {
                map.entry(key, &self.options[key]);
            }
        }
        map.finish()
    }
}

impl StorageOptions {
    /// Options from `key = value` pairs (lower-case keys, as delta-rs expects them).
    pub fn new(options: HashMap<String, String>) -> Self {
        let options = options
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        Self {
            options: Arc::new(options),
        }
    }

    /// The options as delta-rs builders take them.
    pub fn to_map(&self) -> HashMap<String, String> {
        self.options.as_ref().clone()
    }

    /// A delta-rs table builder for `url` with these options.
    pub fn table_builder(&self, url: &Url) -> Result<DeltaTableBuilder> {
        let builder = DeltaTableBuilder::from_url(url.clone())?;
        Ok(if is_object_store(url) {
            builder.with_storage_options(self.to_map())
        } else {
            builder
        })
    }

    /// The table at `url`, loaded; a location without a Delta log yet gives an empty handle to
    /// create one with (as delta-rs's `try_from_url` does).
    pub async fn open_or_new(&self, url: &Url) -> Result<deltalake::DeltaTable> {
        let mut table = self.table_builder(url)?.build()?;
        match table.load().await {
            Ok(()) | Err(deltalake::DeltaTableError::NotATable(_)) => Ok(table),
            Err(e) => Err(e.into()),
        }
    }

    /// The log store (and through it the object store) of the location `url`, without reading
    /// anything yet.
    pub fn log_store(&self, url: &Url) -> Result<LogStoreRef> {
        Ok(self.table_builder(url)?.build_storage()?)
    }
}

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str()) || key.contains("secret") || key.contains("password")
}

/// Whether `url` names an object store (anything but a local `file://` path).
pub fn is_object_store(url: &Url) -> bool {
    url.scheme() != "file"
}

/// `location` as an object-store URL, when it is one (`s3://b/p`, `gs://...`, `az://...`,
/// `abfss://...`); None for a local path or `file://` URL.
pub fn object_store_url(location: &str) -> Option<Result<Url>> {
    let (scheme, _) = location.split_once("://")?;
    if scheme.eq_ignore_ascii_case("file") {
        return None;
    }
    Some(parse_store_url(location))
}

fn parse_store_url(location: &str) -> Result<Url> {
    let url = Url::parse(location).map_err(|e| {
        Error::new(
            ErrorKind::InvalidParameterValue,
            format!("invalid storage URL {location}: {e}"),
        )
    })?;
    const SCHEMES: &[&str] = &[
        "s3", "s3a", "gs", "az", "adl", "azure", "abfs", "abfss", "memory",
    ];
    if !SCHEMES.contains(&url.scheme()) {
        return Err(Error::new(
            ErrorKind::FeatureNotSupported,
            format!(
                "storage URL {location}: the scheme {}:// is not supported (use s3://, gs://, az://, abfss:// or a local path)",
                url.scheme()
            ),
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!("storage URL {location} names no bucket or container"),
        ));
    }
    // The URL parser would resolve `..` itself; a location that needs it is refused as written.
    if location
        .split(['/', '\\'])
        .any(|segment| segment == ".." || segment == ".")
    {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!("storage URL {location} may not contain '..'"),
        ));
    }
    Ok(url)
}

/// A folder URL in the form delta-rs and prefix checks expect: ending in `/`.
pub fn dir_form(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url
}

/// Checks that `store` refuses a second put-if-absent of the same object: Delta commits on an
/// object store are atomic only then (two writers of one version: one wins, one gets 40001).
/// Writes and removes one probe object under `prefix`.
pub async fn check_atomic_commits(store: &dyn ObjectStore, prefix: &Path, url: &Url) -> Result<()> {
    let probe = prefix.clone().join(
        format!(
            "_deltagres_commit_probe_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        )
        .as_str(),
    );
    let create = || PutOptions {
        mode: PutMode::Create,
        ..Default::default()
    };
    let unreachable = |e: object_store::Error| {
        Error::new(
            ErrorKind::IoError,
            format!(
                "cannot write to the data directory {url}: {}",
                first_line(&e.to_string())
            ),
        )
        .with_hint("check [storage.s3] (endpoint, region, credentials) or the AWS_* variables")
    };
    store
        .put_opts(&probe, PutPayload::from_static(b"1"), create())
        .await
        .map_err(unreachable)?;
    let second = store
        .put_opts(&probe, PutPayload::from_static(b"2"), create())
        .await;
    let _ = store.delete(&probe).await;
    match second {
        Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
        Err(e) => Err(unreachable(e)),
        Ok(_) => Err(Error::new(
            ErrorKind::FeatureNotSupported,
            format!(
                "the store of {url} accepted a second put-if-absent of the same object: \
                 Delta commits there would not be atomic and concurrent writers could lose commits"
            ),
        )
        .with_hint(
            "use a store with conditional writes (S3, MinIO, R2, GCS, Azure all have them), or set \
             storage.allow_unsafe_commits = true if only one writer ever uses this data directory",
        )),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_get_a_trailing_slash_and_local_paths_are_not_urls() {
        assert_eq!(
            dir_form(object_store_url("s3://lake/wh").unwrap().unwrap()).as_str(),
            "s3://lake/wh/"
        );
        assert!(object_store_url("./data").is_none());
        assert!(object_store_url("file:///tmp/x").is_none());
        assert!(object_store_url("ftp://x/y").unwrap().is_err());
        assert!(object_store_url("s3:///nobucket").unwrap().is_err());
        assert!(object_store_url("s3://b/a/../c").unwrap().is_err());
    }

    #[test]
    fn secrets_are_not_printed() {
        let options = StorageOptions::new(HashMap::from([
            ("AWS_SECRET_ACCESS_KEY".to_string(), "hunter2".to_string()),
            ("aws_region".to_string(), "eu-west-1".to_string()),
        ]));
        let shown = format!("{options:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("eu-west-1"), "{shown}");
    }
}
