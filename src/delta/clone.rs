//! `CREATE TABLE t2 SHALLOW | DEEP CLONE t [VERSION AS OF n]`, as Databricks defines them: a new
//! table whose first version holds the source's schema, partitioning, properties and files at
//! that version, in one commit.
//!
//! A deep clone copies the data files into the new table's folder (the clone stands alone); a
//! shallow clone writes only a log whose entries point at the source's files by absolute URL,
//! as Spark's shallow clones do (reading it reads the source's files, so a VACUUM of the source
//! can break it). Either way the source is never written.

use std::collections::HashMap;

use deltalake::DeltaTable;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, MetadataExt as _};
use deltalake::protocol::{DeltaOperation, SaveMode};
use futures::StreamExt as _;
use object_store::ObjectStoreExt as _;
use url::Url;

use super::CreateOptions;
use crate::error::{Error, ErrorKind, Result};

/// How much of the source a clone copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloneKind {
    /// The log only; the data files stay the source's.
    Shallow,
    /// The log and a copy of every data file.
    Deep,
}

/// What a clone did, for the command's NOTICE.
#[derive(Debug, Clone, Copy)]
pub struct CloneMetrics {
    /// Data files the new table holds.
    pub files: usize,
    /// Their bytes.
    pub bytes: i64,
    /// Files copied (0 for a shallow clone).
    pub copied: usize,
}

/// Writes version 0 of a new table at `target` from `source` as loaded (at the version to
/// clone); `options` gives the new table's name, extra TBLPROPERTIES and comment.
pub async fn clone_table(
    source: &DeltaTable,
    target: Url,
    options: &CreateOptions,
    kind: CloneKind,
) -> Result<(DeltaTable, CloneMetrics)> {
    let snapshot = source.snapshot()?;
    let meta_error = |e: deltalake::kernel::Error| {
        Error::internal(format!("the clone's Delta metadata cannot be written: {e}"))
    };
    let mut metadata = snapshot
        .metadata()
        .clone()
        .with_table_id(uuid::Uuid::new_v4().to_string())
        .and_then(|m| m.with_name(options.name.clone()))
        .map_err(meta_error)?;
    if let Some(comment) = &options.comment {
        metadata = metadata
            .with_description(comment.clone())
            .map_err(meta_error)?;
    }
    for (key, value) in &options.properties {
        metadata = metadata
            .add_config_key(key.clone(), value.clone())
            .map_err(meta_error)?;
    }
    let protocol = snapshot.protocol().clone();
    let source_root = source.table_url().clone();
    let target_table = options.storage.open_or_new(&target).await?;
    let source_store = source.log_store().object_store(None);
    let target_store = target_table.log_store().object_store(None);
    let mut actions = vec![
        Action::Protocol(protocol.clone()),
        Action::Metadata(metadata.clone()),
    ];
    let mut metrics = CloneMetrics {
        files: 0,
        bytes: 0,
        copied: 0,
    };
    for file in snapshot.log_data().iter() {
        if file.deletion_vector_descriptor().is_some() {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                format!(
                    "table {} has deletion vectors, which CLONE cannot copy yet",
                    options.name
                ),
            )
            .with_hint("OPTIMIZE the source (or REORG TABLE ... APPLY (PURGE) in Spark) first, then clone it"));
        }
        #[allow(deprecated)]
        let mut add = file.add_action();
        add.data_change = true;
        metrics.files += 1;
        metrics.bytes += add.size;
        let relative = file.object_store_path();
        let absolute = is_absolute(&add.path);
        match kind {
            CloneKind::Shallow if !absolute => {
                // The source's file by its absolute URL (percent-encoded as a URL is).
                let url = source_root.join(&add.path).map_err(|e| {
                    Error::internal(format!("file {} of the source has no URL: {e}", add.path))
                })?;
                add.path = url.to_string();
            }
            CloneKind::Shallow => {}
            CloneKind::Deep if absolute => {
                return Err(Error::new(
                    ErrorKind::FeatureNotSupported,
                    "DEEP CLONE of a table that is itself a shallow clone is not supported yet",
                ));
            }
            CloneKind::Deep => {
                copy_file(&source_store, &target_store, &relative).await?;
                metrics.copied += 1;
            }
        }
        actions.push(Action::Add(add));
    }
    let operation = DeltaOperation::Create {
        mode: SaveMode::ErrorIfExists,
        location: target.clone(),
        protocol,
        metadata,
    };
    let properties = CommitProperties::default().with_metadata(HashMap::from([(
        "clone".to_string(),
        serde_json::json!({
            "source": source_root.to_string(),
            "sourceVersion": source.version(),
            "isShallow": kind == CloneKind::Shallow,
        }),
    )]));
    let committed = CommitBuilder::from(properties)
        .with_actions(actions)
        .build(None, target_table.log_store(), operation)
        .await?;
    let table = options
        .storage
        .table_builder(&target)?
        .with_version(committed.version() as _)
        .load()
        .await?;
    Ok((table, metrics))
}

/// Whether a log entry's path is a URL (a shallow clone's) rather than relative to the table.
fn is_absolute(path: &str) -> bool {
    path.contains("://") || path.starts_with('/')
}

/// Streams one data file from the source's store to the same relative path in the target's.
async fn copy_file(
    from: &std::sync::Arc<dyn object_store::ObjectStore>,
    to: &std::sync::Arc<dyn object_store::ObjectStore>,
    path: &object_store::path::Path,
) -> Result<()> {
    let source = from.get(path).await.map_err(|e| {
        Error::new(
            ErrorKind::IoError,
            format!("cannot read {path} of the source: {e}"),
        )
    })?;
    let mut stream = source.into_stream();
    let mut writer = object_store::buffered::BufWriter::new(to.clone(), path.clone());
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| Error::new(ErrorKind::IoError, format!("reading {path}: {e}")))?;
        tokio::io::AsyncWriteExt::write_all(&mut writer, &chunk).await?;
    }
    tokio::io::AsyncWriteExt::shutdown(&mut writer).await?;
    Ok(())
}
