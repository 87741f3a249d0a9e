//! The object store delta-rs uses for `file://` tables: object_store's `LocalFileSystem`, with a
//! listing that costs what it returns.
//!
//! Every commit and every refresh lists `_delta_log` from a version on. `LocalFileSystem` walks
//! the whole directory for that and turns each entry into a URL and a path before it compares
//! it with the offset; the log keeps every commit file for `delta.logRetentionDuration` (30 days
//! by default), so after a few thousand commits each listing costs several milliseconds and
//! every commit pays it more than once. Here a flat directory is read once and only the names
//! past the offset become objects; anything unusual (subfolders, links, names that need
//! escaping) goes to `LocalFileSystem` unchanged.

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use url::Url;

/// `LocalFileSystem` (rooted at `/`) with the fast flat listing.
#[derive(Debug)]
pub struct LocalStore {
    inner: Arc<LocalFileSystem>,
}

impl std::fmt::Display for LocalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LocalStore({})", self.inner)
    }
}

/// Makes delta-rs open every `file://` table through [`LocalStore`]; call once at start.
pub fn install_local_store() {
    let url = Url::parse("file://").expect("a valid URL");
    deltalake::logstore::object_store_factories().insert(url, Arc::new(LocalStoreFactory));
}

#[derive(Debug)]
struct LocalStoreFactory;

impl deltalake::logstore::ObjectStoreFactory for LocalStoreFactory {
    fn parse_url_opts(
        &self,
        url: &Url,
        _config: &deltalake::logstore::StorageConfig,
    ) -> deltalake::DeltaResult<(deltalake::logstore::ObjectStoreRef, Path)> {
        // As object_store's own `parse_url` does for file URLs.
        let path = Path::from_url_path(url.path())
            .map_err(|_| deltalake::DeltaTableError::InvalidTableLocation(url.to_string()))?;
        let store = LocalStore {
            inner: Arc::new(LocalFileSystem::new()),
        };
        Ok((Arc::new(store), path))
    }
}

/// The files directly in `prefix` whose paths sort after `offset`; None when the directory is not
/// a plain folder of plainly named files (then `LocalFileSystem` lists it).
fn flat_listing(
    store: &LocalFileSystem,
    prefix: &Path,
    offset: &Path,
) -> Option<Result<Vec<ObjectMeta>>> {
    let dir = store.path_to_filesystem(prefix).ok()?;
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Ok(Vec::new())),
        Err(_) => return None,
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.ok()?;
        if !entry.file_type().ok()?.is_file() {
            return None;
        }
        let name = entry.file_name().into_string().ok()?;
        if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            // `#` marks object_store's unfinished uploads, hidden by LocalFileSystem too.
            if name.contains('#') {
                continue;
            }
            return None;
        }
        let location = prefix.clone().join(name.as_str());
        if location <= *offset {
            continue;
        }
        let meta = entry.metadata().ok()?;
        out.push(ObjectMeta {
            location,
            last_modified: meta.modified().ok()?.into(),
            size: meta.len(),
            e_tag: None,
            version: None,
        });
    }
    Some(Ok(out))
}

#[async_trait::async_trait]
impl ObjectStore for LocalStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<bytes::Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        let Some(prefix) = prefix.cloned() else {
            return self.inner.list_with_offset(None, offset);
        };
        let inner = self.inner.clone();
        let offset = offset.clone();
        futures::stream::once(async move {
            let (listed, inner, prefix, offset) = tokio::task::spawn_blocking(move || {
                let listed = flat_listing(&inner, &prefix, &offset);
                (listed, inner, prefix, offset)
            })
            .await
            .map_err(|e| object_store::Error::Generic {
                store: "LocalStore",
                source: Box::new(e),
            })?;
            Ok::<_, object_store::Error>(match listed {
                Some(Ok(metas)) => futures::stream::iter(metas.into_iter().map(Ok)).boxed(),
                Some(Err(e)) => futures::stream::once(async move { Err(e) }).boxed(),
                None => inner.list_with_offset(Some(&prefix), &offset),
            })
        })
        .flat_map(|listed| match listed {
            Ok(stream) => stream,
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        })
        .boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
