//! Reading tables whose protocol lists a reader feature that delta-rs's scan refuses although a
//! reader has nothing to do for it.
//!
//! Today there is one: `vacuumProtocolCheck`, which Databricks turns on for new tables. The Delta
//! protocol asks only VACUUM (a writer) to act on it; a reader reads the table as it would without
//! it, and delta-kernel knows it. delta-rs 1.1.3's table provider compares the reader features
//! with its own list and refuses the table (`Unsupported table features required:
//! [VacuumProtocolCheck]`). For such a table the provider is built on a copy of the snapshot whose
//! protocol no longer lists the feature. The copy is only ever scanned: writes load the real
//! protocol and still refuse the table with 0A000, so no commit is made with a feature we do not
//! honour.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use deltalake::kernel::Snapshot;
use deltalake::{DeltaTable, DeltaTableError};
use serde_json::Value;

/// Reader features a reader needs to do nothing for (PROTOCOL.md), by their protocol names.
const NOTHING_TO_READ: &[&str] = &["vacuumProtocolCheck"];

/// The provider that scans `table` at its loaded version. Why not `table.table_provider()`
/// alone: see the module header; for every other table it is exactly that.
/// Conditions on float columns never skip data through it (see [`super::scan_filters`]).
pub async fn read_provider(table: &DeltaTable) -> Result<Arc<dyn TableProvider>, DeltaTableError> {
    let partition_columns = table.snapshot()?.metadata().partition_columns().to_vec();
    let provider = match lists_nothing_to_read_feature(table) {
        None => table.table_provider().await?,
        Some(version) => {
            let snapshot = Snapshot::try_new(table.log_store().as_ref(), Some(version)).await?;
            let snapshot = without_nothing_to_read_features(&snapshot)?;
            table.table_provider().with_snapshot(snapshot).await?
        }
    };
    Ok(super::scan_filters::GuardedScanTable::wrap(
        provider,
        &partition_columns,
    ))
}

/// The loaded version when the table's protocol lists a feature of [`NOTHING_TO_READ`].
fn lists_nothing_to_read_feature(table: &DeltaTable) -> Option<u64> {
    let state = table.snapshot().ok()?;
    let listed = state
        .protocol()
        .reader_features()?
        .iter()
        .any(|feature| NOTHING_TO_READ.contains(&feature.as_ref()));
    listed.then(|| state.version())
}

/// The same snapshot with the [`NOTHING_TO_READ`] features taken out of its protocol's reader
/// and writer lists (the protocol must list a reader-writer feature in both or neither); see
/// [`super::protocol_copy`].
fn without_nothing_to_read_features(snapshot: &Snapshot) -> Result<Snapshot, DeltaTableError> {
    let mut form = serde_json::to_value(snapshot).map_err(serde_error)?;
    super::protocol_copy::edit_protocol(&mut form, |protocol| {
        for list in ["readerFeatures", "writerFeatures"] {
            if let Some(Value::Array(features)) = protocol.get_mut(list) {
                features.retain(|f| !f.as_str().is_some_and(|f| NOTHING_TO_READ.contains(&f)));
            }
        }
    })
    .map_err(|e| DeltaTableError::Generic(e.into()))?;
    serde_json::from_value(form).map_err(serde_error)
}

fn serde_error(e: serde_json::Error) -> DeltaTableError {
    DeltaTableError::Generic(format!("copying a snapshot for reading: {e}"))
}
