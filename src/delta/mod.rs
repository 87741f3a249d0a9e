//! Thin wrappers over delta-rs operations, in the shape the planner needs them. Nothing here knows
//! about the wire or the session.

mod auto_compact;
mod cached;
mod clone;
mod column_defaults;
mod column_mapping;
mod conflict_guard;
mod entry_hook;
mod handled_features;
mod identity;
mod identity_write;
mod local_store;
mod log_upkeep;
mod metadata;
mod protocol_copy;
mod read_features;
mod rewrite;
mod scan_filters;
mod schema;
mod schema_change;
mod storage;
#[cfg(test)]
mod test_support;
mod write;
mod zorder;

pub use auto_compact::{compact, compact_mapped, compaction_due};
pub use cached::CachedTable;
pub use clone::{CloneKind, CloneMetrics, clone_table};
pub use column_defaults::{CURRENT_DEFAULT, column_defaults};
pub use column_mapping::{
    ColumnChange, MODE_KEY as COLUMN_MAPPING_MODE, change_columns, maps_columns, physical_name,
};
pub use conflict_guard::install_conflict_guard;
pub use handled_features::{lists_handled_feature, operable};
pub use identity::{
    IdentityColumn, IdentityFill, identity_columns, lists_identity_feature,
    value_functions as identity_value_functions, with_generated_values,
};
pub use identity_write::{append_filled, marking_store};
pub use local_store::install_local_store;
pub use log_upkeep::checkpoint_if_due;
pub use metadata::{
    detail_batch, detail_schema, files_batch, files_schema, history_batch, history_schema,
    last_commit_metric, row_count, single_value_counts,
};
pub use read_features::read_provider;
pub use rewrite::{
    PartitionFiles, commit_rewrite, files_by_partition, partition_key, rewrite_files,
    write_ordered_files,
};
pub use scan_filters::{GuardedScanTable, float_columns, holds_floats};
pub use schema::{
    GENERATION_EXPRESSION, generated_columns, table_arrow_schema, to_delta_arrow_schema,
};
pub use schema_change::{
    COLUMN_COMMENT, column_comment, field_metadata_text, set_column_default, set_column_metadata,
    set_description, set_not_null, unset_properties,
};
pub use storage::{
    StorageOptions, check_atomic_commits, dir_form, is_object_store, object_store_url,
};
pub use write::{CreateOptions, append_plan, create_empty, quiet_commit, write_plan};
pub use zorder::{MAX_ZORDER_COLUMNS, ZORDER_KEY_FUNCTION, ZOrderKey};
