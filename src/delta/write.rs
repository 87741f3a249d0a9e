//! Creating Delta tables and writing query results into them, each as one commit.

use std::collections::HashMap;

use datafusion::arrow::datatypes::Schema;
use datafusion::logical_expr::LogicalPlan;
use deltalake::DeltaTable;
use deltalake::kernel::StructType;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::operations::write::SchemaMode;
use deltalake::protocol::SaveMode;
use url::Url;

use super::to_delta_arrow_schema;
use crate::error::{Error, ErrorKind, Result};

/// Table-level options of CREATE TABLE.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The table name recorded in the Delta metadata.
    pub name: String,
    /// `PARTITIONED BY` columns.
    pub partition_columns: Vec<String>,
    /// `TBLPROPERTIES`.
    pub properties: HashMap<String, String>,
    /// `COMMENT`.
    pub comment: Option<String>,
    /// Replace an existing table (new version with the new schema) instead of failing.
    pub replace: bool,
    /// How to reach the table's storage.
    pub storage: super::StorageOptions,
}

impl CreateOptions {
    /// TBLPROPERTIES in the form delta-rs builders take.
    fn configuration(&self) -> impl Iterator<Item = (String, Option<String>)> + '_ {
        self.properties
            .iter()
            .map(|(k, v)| (k.clone(), Some(v.clone())))
    }
}

/// Creates an empty table with `schema` at `location` (one commit).
pub async fn create_empty(
    location: Url,
    schema: &Schema,
    options: &CreateOptions,
) -> Result<DeltaTable> {
    let schema = to_delta_arrow_schema(schema)?;
    check_partition_columns(&schema, &options.partition_columns)?;
    let struct_type: StructType = (&schema).try_into_kernel().map_err(|e| {
        Error::new(
            ErrorKind::DatatypeMismatch,
            format!("unsupported column type: {e}"),
        )
    })?;
    let struct_type = super::identity::declare_identity_columns(struct_type)?;
    let mut handled = Vec::new();
    if !super::identity::schema_identity_columns(&struct_type).is_empty() {
        handled.push(super::identity::FEATURE);
    }
    if super::column_defaults::declares_defaults(&struct_type) {
        handled.push(super::column_defaults::FEATURE);
    }
    let handled_protocol = super::handled_features::creation_protocol(&handled)?;
    let mut builder = options
        .storage
        .open_or_new(&location)
        .await?
        .create()
        .with_columns(struct_type.fields().cloned())
        .with_partition_columns(options.partition_columns.clone())
        .with_configuration(options.configuration())
        .with_raise_if_key_not_exists(false)
        .with_table_name(options.name.clone())
        .with_save_mode(if options.replace {
            SaveMode::Overwrite
        } else {
            SaveMode::ErrorIfExists
        });
    if let Some(comment) = &options.comment {
        builder = builder.with_comment(comment.clone());
    }
    if let Some(protocol) = handled_protocol {
        builder = builder.with_actions([deltalake::kernel::Action::Protocol(protocol)]);
    }
    Ok(builder.await?)
}

/// Writes the rows of `plan` as a new table, or as a new version replacing the table's data and
/// schema when `options.replace` is set (CREATE [OR REPLACE] TABLE ... AS SELECT). One commit,
/// planned and run in the caller's `session` (its memory pool, settings and hint planner).
pub async fn write_plan(
    location: Url,
    plan: LogicalPlan,
    options: &CreateOptions,
    session: std::sync::Arc<dyn datafusion::catalog::Session>,
) -> Result<DeltaTable> {
    let plan = plain_columns(plan)?;
    let schema = to_delta_arrow_schema(plan.schema().as_arrow())?;
    check_partition_columns(&schema, &options.partition_columns)?;
    let table = options.storage.open_or_new(&location).await?;
    let mut builder = table
        .write(Vec::new())
        .with_input_plan(plan)
        .with_session_state(session)
        .with_partition_columns(options.partition_columns.clone())
        .with_configuration(options.configuration())
        .with_table_name(options.name.clone());
    builder = if options.replace {
        builder
            .with_save_mode(SaveMode::Overwrite)
            .with_schema_mode(SchemaMode::Overwrite)
    } else {
        builder.with_save_mode(SaveMode::ErrorIfExists)
    };
    if let Some(comment) = &options.comment {
        builder = builder.with_description(comment.clone());
    }
    Ok(builder.await?)
}

/// Whether a field metadata key belongs to the table a column was read from rather than to its
/// values: the column's default, generation expression, identity sequence or column-mapping
/// names.
fn table_bound(key: &str) -> bool {
    key == super::CURRENT_DEFAULT
        || key == super::GENERATION_EXPRESSION
        || key.starts_with("delta.identity.")
        || key.starts_with("delta.columnMapping.")
}

/// `plan` with the metadata of [`table_bound`] left off its columns: a CREATE TABLE ... AS (and
/// `LIKE`, planned as one) makes plain columns, as PostgreSQL does (the new table had taken the
/// source's defaults and identity and generation marks without their table features). The marks
/// of the values' types (uuid, json, varchar(n)) stay.
fn plain_columns(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::common::Column;
    use datafusion::logical_expr::{Cast, Expr, LogicalPlanBuilder};
    let schema = plan.schema().clone();
    let bound = |field: &datafusion::arrow::datatypes::Field| {
        field.metadata().keys().any(|k| table_bound(k))
    };
    if !schema.fields().iter().any(|f| bound(f)) {
        return Ok(plan);
    }
    let columns: Vec<Expr> = schema
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::from((qualifier, field)));
            if !bound(field) {
                return column;
            }
            let kept: HashMap<String, String> = field
                .metadata()
                .iter()
                .filter(|(k, _)| !table_bound(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let plain = std::sync::Arc::new(field.as_ref().clone().with_metadata(kept));
            Expr::Cast(Cast::new_from_field(Box::new(column), plain))
                .alias_qualified(qualifier.cloned(), field.name())
        })
        .collect();
    Ok(LogicalPlanBuilder::from(plan).project(columns)?.build()?)
}

/// Appends the rows of `plan` (an INSERT's input, already shaped to the table's columns) to
/// `table` in one commit, and returns the number of rows added and the table as committed (the
/// state delta-rs brought up to the new version).
/// A table with identity columns generates their values ([`super::identity_write`]).
/// Checkpoints and log cleanup are left to [`super::checkpoint_if_due`], which runs them on the
/// table's schedule (delta-rs would list the whole log after every commit).
pub async fn append_plan(
    table: DeltaTable,
    plan: LogicalPlan,
    session: std::sync::Arc<dyn datafusion::catalog::Session>,
) -> Result<(u64, DeltaTable)> {
    if super::identity::lists_identity_feature(table.snapshot()?.protocol()) {
        return super::identity_write::append(table, plan, session).await;
    }
    let handled = super::lists_handled_feature(table.snapshot()?.protocol());
    let written = super::operable(&table)?
        .write(Vec::new())
        .with_input_plan(plan)
        .with_session_state(session)
        .with_save_mode(SaveMode::Append)
        .with_commit_properties(quiet_commit())
        .await?;
    let rows = super::last_commit_metric(&written, &["num_added_rows"])
        .await
        .unwrap_or(0) as u64;
    if !handled {
        return Ok((rows, written));
    }
    // Written through a copy without the features delta-rs refuses: the state kept is the
    // table's own, brought up to the new commit.
    let mut table = table;
    table.update_state().await?;
    Ok((rows, table))
}

/// Commit properties for statements whose log upkeep runs after them (see
/// [`super::checkpoint_if_due`]): no per-commit checkpoint test or log listing in delta-rs.
pub fn quiet_commit() -> deltalake::kernel::transaction::CommitProperties {
    deltalake::kernel::transaction::CommitProperties::default()
        .with_create_checkpoint(false)
        .with_cleanup_expired_logs(Some(false))
        // A retry happens only when the winning commit does not conflict (a blind append, a
        // disjoint rewrite); many writers of one table (several servers) need more than 15.
        .with_max_retries(100)
}

fn check_partition_columns(schema: &Schema, partition_columns: &[String]) -> Result<()> {
    for c in partition_columns {
        if schema.field_with_name(c).is_err() {
            return Err(Error::new(
                ErrorKind::UndefinedColumn,
                format!("partition column \"{c}\" is not a column of the table"),
            ));
        }
    }
    if !partition_columns.is_empty() && partition_columns.len() == schema.fields().len() {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            "a table cannot be partitioned by all of its columns",
        ));
    }
    Ok(())
}
