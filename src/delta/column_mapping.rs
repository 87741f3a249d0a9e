//! `RENAME COLUMN`, `DROP COLUMN`, and `ADD COLUMN` on a renamed table, the way Delta defines
//! them: column mapping in `name` mode. Each field carries a stable id and a physical name (the
//! column's name inside the data files); renaming changes only the logical name and dropping
//! only removes the field from the schema, so neither rewrites a data file, and Spark and the
//! deltalake package read the result. A table without column mapping is upgraded in the same
//! commit, as Spark upgrades it: protocol (reader 2 / writer 5, or the `columnMapping` feature on
//! a table-features protocol), `delta.columnMapping.mode = name`, ids for every field (nested ones
//! too) and physical names equal to today's names, so files already written stay valid.
//!
//! delta-rs 1.1.3 has no operation for any of this; the metadata is edited in its JSON form and
//! committed with a `commitInfo` naming the operation as Spark's history does.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayData, RecordBatch, make_array};
use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};
use deltalake::DeltaTable;
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::kernel::{Action, CommitInfo, MetadataValue, StructField, StructType};
use deltalake::protocol::DeltaOperation;
use serde_json::{Value, json};

use crate::error::{Error, ErrorKind, Result};

/// Table property that turns column mapping on (`name` or `id`; absent or `none` is off).
pub const MODE_KEY: &str = "delta.columnMapping.mode";
const MAX_ID_KEY: &str = "delta.columnMapping.maxColumnId";
const ID_KEY: &str = "delta.columnMapping.id";
const PHYSICAL_NAME_KEY: &str = "delta.columnMapping.physicalName";

/// A change to a table's top-level columns that column mapping makes a metadata-only commit.
#[derive(Debug, Clone)]
pub enum ColumnChange {
    /// `RENAME COLUMN from TO to`.
    Rename { from: String, to: String },
    /// `DROP COLUMN a, b`.
    Drop { columns: Vec<String> },
    /// `SET TBLPROPERTIES ('delta.columnMapping.mode' = 'name')`: the upgrade alone, as Spark
    /// enables column mapping on an existing table.
    Enable,
    /// `ADD COLUMN` on a table that already maps columns (delta-rs's own ADD COLUMN refuses such
    /// tables): new fields get fresh ids and `col-<uuid>` physical names, as Spark gives them,
    /// so a dropped column's old data never reappears under a re-added name.
    Add { fields: Vec<StructField> },
}

/// True when the table maps logical column names to physical ones.
pub fn maps_columns(table: &DeltaTable) -> Result<bool> {
    let snapshot = table.snapshot()?;
    Ok(snapshot
        .metadata()
        .configuration()
        .get(MODE_KEY)
        .is_some_and(|mode| !mode.eq_ignore_ascii_case("none")))
}

/// The name `column` has in the table's data files, partition values and statistics (its
/// logical name when the table does not map columns).
pub fn physical_name(table: &DeltaTable, column: &str) -> String {
    let mapped = table.snapshot().ok().and_then(|snapshot| {
        let schema = snapshot.schema();
        match schema.field(column)?.metadata().get(PHYSICAL_NAME_KEY) {
            Some(MetadataValue::String(name)) => Some(name.clone()),
            _ => None,
        }
    });
    mapped.unwrap_or_else(|| column.to_string())
}

/// Applies `change` in one commit, upgrading the table to column mapping first when needed.
pub async fn change_columns(table: DeltaTable, change: ColumnChange) -> Result<DeltaTable> {
    let snapshot = table.snapshot()?;
    let mut metadata = serde_json::to_value(snapshot.metadata())
        .map_err(|e| Error::internal(format!("table metadata as JSON: {e}")))?;
    let mut protocol = serde_json::to_value(snapshot.protocol())
        .map_err(|e| Error::internal(format!("table protocol as JSON: {e}")))?;
    let mut schema: Value = serde_json::from_str(metadata["schemaString"].as_str().unwrap_or(""))
        .map_err(|e| Error::internal(format!("table schema as JSON: {e}")))?;
    let mut configuration: HashMap<String, String> = snapshot.metadata().configuration().clone();

    let protocol_changed = if maps_columns(&table)? {
        false
    } else {
        let mut next_id = 0i64;
        assign_mapping(&mut schema, &mut next_id);
        configuration.insert(MODE_KEY.to_string(), "name".to_string());
        configuration.insert(MAX_ID_KEY.to_string(), next_id.to_string());
        enable_in_protocol(&mut protocol)
    };

    let partition_columns: Vec<String> = snapshot.metadata().partition_columns().to_vec();
    let (operation, parameters, partition_columns) = match &change {
        ColumnChange::Rename { from, to } => {
            check_unreferenced(&configuration, &schema, from, "rename")?;
            rename_field(&mut schema, from, to)?;
            let partitions = partition_columns
                .into_iter()
                .map(|c| if &c == from { to.clone() } else { c })
                .collect();
            (
                "RENAME COLUMN",
                HashMap::from([
                    ("oldColumnPath".to_string(), json!(from)),
                    ("newColumnPath".to_string(), json!(to)),
                ]),
                partitions,
            )
        }
        ColumnChange::Drop { columns } => {
            for column in columns {
                if partition_columns.contains(column) {
                    return Err(Error::unsupported(format!(
                        "cannot drop partition column \"{column}\""
                    ))
                    .with_hint("a Delta table's partitioning is fixed; CREATE TABLE ... AS SELECT the columns to keep into a new table"));
                }
                check_unreferenced(&configuration, &schema, column, "drop")?;
            }
            drop_fields(&mut schema, columns)?;
            let listed = serde_json::to_string(columns).unwrap_or_default();
            (
                "DROP COLUMNS",
                HashMap::from([("columns".to_string(), json!(listed))]),
                partition_columns,
            )
        }
        ColumnChange::Enable => (
            "SET TBLPROPERTIES",
            HashMap::from([(
                "properties".to_string(),
                json!(json!({MODE_KEY: "name"}).to_string()),
            )]),
            partition_columns,
        ),
        ColumnChange::Add { fields } => {
            let mut next_id = configuration
                .get(MAX_ID_KEY)
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or_else(|| max_assigned_id(&schema));
            let added = add_fields(&mut schema, fields, &mut next_id)?;
            configuration.insert(MAX_ID_KEY.to_string(), next_id.to_string());
            (
                "ADD COLUMNS",
                HashMap::from([("columns".to_string(), json!(added.to_string()))]),
                partition_columns,
            )
        }
    };

    metadata["schemaString"] = Value::String(schema.to_string());
    metadata["partitionColumns"] = json!(partition_columns);
    metadata["configuration"] = json!(configuration);
    let metadata: deltalake::kernel::Metadata = serde_json::from_value(metadata)
        .map_err(|e| Error::internal(format!("new table metadata: {e}")))?;
    let mut actions = vec![Action::CommitInfo(CommitInfo {
        timestamp: Some(chrono::Utc::now().timestamp_millis()),
        operation: Some(operation.to_string()),
        operation_parameters: Some(parameters),
        engine_info: Some(format!("deltagres {}", env!("CARGO_PKG_VERSION"))),
        ..Default::default()
    })];
    if protocol_changed {
        let protocol: deltalake::kernel::Protocol = serde_json::from_value(protocol)
            .map_err(|e| Error::internal(format!("new table protocol: {e}")))?;
        actions.push(Action::Protocol(protocol));
    }
    actions.push(Action::Metadata(metadata));
    // The operation decides conflict checks: a metadata change fails against any concurrent
    // commit, which is what a schema change needs.
    let operation = DeltaOperation::UpdateFieldMetadata { fields: Vec::new() };
    // A table whose features delta-rs refuses commits through a copy without them.
    let operable = super::operable(&table)?;
    CommitBuilder::from(super::quiet_commit())
        .with_actions(actions)
        .build(Some(operable.snapshot()?), table.log_store(), operation)
        .await?;
    let mut table = table;
    table.update_state().await?;
    Ok(table)
}

/// How a column-mapped table's rows are laid out in its data files: the schema under physical
/// names and the physical partition columns. The rewrites (OPTIMIZE, compaction) write through
/// delta-rs's `RecordBatchWriter`, which knows only the names it is given.
pub struct PhysicalLayout {
    /// The table's Arrow schema with every field (nested ones too) under its physical name.
    pub schema: SchemaRef,
    /// Partition columns under their physical names (the keys of `partitionValues`).
    pub partition_columns: Vec<String>,
}

impl PhysicalLayout {
    /// The layout of `table`, or None when it does not map columns (names are physical).
    pub fn of(table: &DeltaTable) -> Result<Option<Self>> {
        if !maps_columns(table)? {
            return Ok(None);
        }
        let snapshot = table.snapshot()?;
        if snapshot
            .metadata()
            .configuration()
            .get(MODE_KEY)
            .map(String::as_str)
            != Some("name")
        {
            // Mode `id` matches columns by parquet field id, which this writer does not set.
            return Err(Error::unsupported(
                "rewriting the files of a table in column mapping mode 'id' is not supported yet",
            ));
        }
        let logical: Value = serde_json::to_value(snapshot.schema().as_ref())
            .map_err(|e| Error::internal(format!("table schema as JSON: {e}")))?;
        let physical = physical_names(&logical);
        let schema: StructType = serde_json::from_value(physical)
            .map_err(|e| Error::internal(format!("physical schema: {e}")))?;
        let schema: Schema = (&schema)
            .try_into_arrow()
            .map_err(|e| Error::internal(format!("physical schema: {e}")))?;
        let partition_columns = snapshot
            .metadata()
            .partition_columns()
            .iter()
            .map(|c| physical_name(table, c))
            .collect();
        Ok(Some(Self {
            schema: Arc::new(schema),
            partition_columns,
        }))
    }

    /// The batch (in the table's logical schema and types) under the physical names: the same
    /// buffers, only the (nested) field names differ.
    pub fn to_physical(&self, batch: &RecordBatch) -> Result<RecordBatch> {
        let columns = batch
            .columns()
            .iter()
            .zip(self.schema.fields())
            .map(|(column, field)| {
                let data = retype(column.to_data(), field.data_type())?;
                Ok(make_array(data))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

/// The schema JSON with each struct field named by its physical name.
fn physical_names(data_type: &Value) -> Value {
    let mut out = data_type.clone();
    match data_type.get("type").and_then(Value::as_str) {
        Some("struct") => {
            if let Some(fields) = out.get_mut("fields").and_then(Value::as_array_mut) {
                for field in fields {
                    if let Some(name) = field["metadata"][PHYSICAL_NAME_KEY].as_str() {
                        field["name"] = json!(name);
                    }
                    if field["type"].is_object() {
                        field["type"] = physical_names(&field["type"]);
                    }
                }
            }
        }
        Some("array") => out["elementType"] = physical_names(&data_type["elementType"]),
        Some("map") => {
            out["keyType"] = physical_names(&data_type["keyType"]);
            out["valueType"] = physical_names(&data_type["valueType"]);
        }
        _ => {}
    }
    out
}

/// `data` declared as `to`, a type of the same layout whose nested field names differ.
fn retype(data: ArrayData, to: &DataType) -> Result<ArrayData> {
    let child_types: Vec<&DataType> = match to {
        DataType::Struct(fields) => fields.iter().map(|f| f.data_type()).collect(),
        DataType::List(f) | DataType::LargeList(f) | DataType::Map(f, _) => vec![f.data_type()],
        DataType::FixedSizeList(f, _) | DataType::ListView(f) | DataType::LargeListView(f) => {
            vec![f.data_type()]
        }
        _ => Vec::new(),
    };
    if child_types.is_empty() {
        return Ok(data);
    }
    let children = data
        .child_data()
        .iter()
        .zip(child_types)
        .map(|(child, t)| retype(child.clone(), t))
        .collect::<Result<Vec<_>>>()?;
    Ok(data
        .into_builder()
        .data_type(to.clone())
        .child_data(children)
        .build()?)
}

/// Gives every struct field (nested ones too, depth first as Spark numbers them) an id and a
/// physical name equal to its name, unless it has them already. `next_id` ends at the last id.
fn assign_mapping(data_type: &mut Value, next_id: &mut i64) {
    match data_type.get("type").and_then(Value::as_str) {
        Some("struct") => {
            if let Some(fields) = data_type.get_mut("fields").and_then(Value::as_array_mut) {
                for field in fields {
                    let name = field["name"].clone();
                    let metadata = field
                        .as_object_mut()
                        .map(|f| f.entry("metadata").or_insert_with(|| json!({})));
                    if let Some(Value::Object(metadata)) = metadata {
                        if !metadata.contains_key(ID_KEY) {
                            *next_id += 1;
                            metadata.insert(ID_KEY.to_string(), json!(*next_id));
                        } else if let Some(id) = metadata[ID_KEY].as_i64() {
                            *next_id = (*next_id).max(id);
                        }
                        metadata
                            .entry(PHYSICAL_NAME_KEY.to_string())
                            .or_insert(name);
                    }
                    if let Some(inner) = field.get_mut("type") {
                        assign_mapping(inner, next_id);
                    }
                }
            }
        }
        Some("array") => {
            if let Some(inner) = data_type.get_mut("elementType") {
                assign_mapping(inner, next_id);
            }
        }
        Some("map") => {
            for key in ["keyType", "valueType"] {
                if let Some(inner) = data_type.get_mut(key) {
                    assign_mapping(inner, next_id);
                }
            }
        }
        _ => {}
    }
}

/// The largest column-mapping id anywhere in the schema (for a table missing `maxColumnId`).
fn max_assigned_id(value: &Value) -> i64 {
    match value {
        Value::Object(map) => {
            let own = map.get(ID_KEY).and_then(Value::as_i64).unwrap_or(0);
            map.values().map(max_assigned_id).fold(own, i64::max)
        }
        Value::Array(items) => items.iter().map(max_assigned_id).fold(0, i64::max),
        _ => 0,
    }
}

/// Adds column mapping to the protocol: reader 2 / writer 5 on a legacy protocol, the
/// `columnMapping` feature in the lists of a table-features one. Returns true (it changed).
fn enable_in_protocol(protocol: &mut Value) -> bool {
    let reader = protocol["minReaderVersion"].as_i64().unwrap_or(1);
    let writer = protocol["minWriterVersion"].as_i64().unwrap_or(2);
    if reader >= 3 {
        push_feature(protocol, "readerFeatures");
    } else {
        protocol["minReaderVersion"] = json!(reader.max(2));
    }
    if writer >= 7 {
        push_feature(protocol, "writerFeatures");
    } else {
        protocol["minWriterVersion"] = json!(writer.max(5));
    }
    true
}

fn push_feature(protocol: &mut Value, list: &str) {
    let features = protocol
        .as_object_mut()
        .map(|p| p.entry(list).or_insert_with(|| json!([])));
    if let Some(Value::Array(features)) = features
        && !features.iter().any(|f| f == "columnMapping")
    {
        features.push(json!("columnMapping"));
    }
}

fn top_fields(schema: &mut Value) -> Result<&mut Vec<Value>> {
    schema
        .get_mut("fields")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| Error::internal("table schema without fields"))
}

fn rename_field(schema: &mut Value, from: &str, to: &str) -> Result<()> {
    let fields = top_fields(schema)?;
    if fields.iter().any(|f| f["name"] == to) {
        return Err(Error::new(
            ErrorKind::DuplicateColumn,
            format!("column \"{to}\" already exists"),
        ));
    }
    let field = fields
        .iter_mut()
        .find(|f| f["name"] == from)
        .ok_or_else(|| undefined_column(from))?;
    field["name"] = json!(to);
    Ok(())
}

fn drop_fields(schema: &mut Value, columns: &[String]) -> Result<()> {
    let fields = top_fields(schema)?;
    for column in columns {
        if !fields.iter().any(|f| f["name"] == column.as_str()) {
            return Err(undefined_column(column));
        }
    }
    fields.retain(|f| !columns.iter().any(|c| f["name"] == c.as_str()));
    if fields.is_empty() {
        return Err(Error::unsupported(
            "cannot drop every column of a Delta table: it needs at least one",
        ));
    }
    Ok(())
}

/// Appends `fields` with fresh ids and physical names; returns their names as a JSON list.
fn add_fields(schema: &mut Value, added: &[StructField], next_id: &mut i64) -> Result<Value> {
    let mut names = Vec::new();
    let mut new_fields = Vec::new();
    for field in added {
        let mut field = serde_json::to_value(field)
            .map_err(|e| Error::internal(format!("new column as JSON: {e}")))?;
        // Nested fields need ids too; the top-level one gets a fresh physical name.
        let physical = format!("col-{}", uuid::Uuid::new_v4());
        if let Some(field) = field.as_object_mut() {
            let metadata = field.entry("metadata").or_insert_with(|| json!({}));
            if let Value::Object(metadata) = metadata {
                *next_id += 1;
                metadata.insert(ID_KEY.to_string(), json!(*next_id));
                metadata.insert(PHYSICAL_NAME_KEY.to_string(), json!(physical));
            }
        }
        let mut wrapper = json!({"type": "struct", "fields": []});
        if let Some(inner) = field.get_mut("type") {
            // Ids continue after next_id; nested physical names are the nested names.
            std::mem::swap(&mut wrapper, inner);
            assign_mapping(&mut wrapper, next_id);
            std::mem::swap(&mut wrapper, inner);
        }
        names.push(field["name"].clone());
        new_fields.push(field);
    }
    top_fields(schema)?.extend(new_fields);
    Ok(Value::Array(names))
}

/// Refuses to rename or drop a column that a CHECK constraint or a generated column's
/// expression names (they store the expression as text, which would then name a column that
/// no longer exists); Spark refuses the same.
fn check_unreferenced(
    configuration: &HashMap<String, String>,
    schema: &Value,
    column: &str,
    verb: &str,
) -> Result<()> {
    let mut users: Vec<String> = configuration
        .iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("delta.constraints.")?;
            names_column(v, column).then(|| format!("CHECK constraint \"{name}\""))
        })
        .collect();
    if let Some(fields) = schema.get("fields").and_then(Value::as_array) {
        for field in fields {
            let expr = field["metadata"][super::GENERATION_EXPRESSION].as_str();
            if expr.is_some_and(|e| names_column(e, column)) {
                users.push(format!(
                    "generated column \"{}\"",
                    field["name"].as_str().unwrap_or("")
                ));
            }
        }
    }
    users.sort();
    match users.first() {
        None => Ok(()),
        Some(user) => Err(Error::new(
            ErrorKind::DependentObjectsStillExist,
            format!("cannot {verb} column \"{column}\" because {user} uses it"),
        )
        .with_hint("drop the constraint (ALTER TABLE ... DROP CONSTRAINT) first")),
    }
}

/// Whether the SQL expression text mentions the identifier `column` (a word match on
/// identifier characters, case-insensitive; a mention inside a string literal counts too,
/// which only makes the refusal more careful).
fn names_column(expr: &str, column: &str) -> bool {
    let words: HashSet<String> = expr
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.contains(&column.to_lowercase())
}

fn undefined_column(column: &str) -> Error {
    Error::new(
        ErrorKind::UndefinedColumn,
        format!("column \"{column}\" does not exist"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_given_depth_first_and_keep_existing_ones() {
        let mut schema = json!({"type": "struct", "fields": [
            {"name": "a", "type": "long", "nullable": true, "metadata": {}},
            {"name": "s", "type": {"type": "struct", "fields": [
                {"name": "x", "type": "string", "nullable": true, "metadata": {}}
            ]}, "nullable": true, "metadata": {}},
            {"name": "l", "type": {"type": "array", "elementType": {"type": "struct", "fields": [
                {"name": "y", "type": "integer", "nullable": true, "metadata": {}}
            ]}, "containsNull": true}, "nullable": true, "metadata": {}},
        ]});
        let mut next = 0;
        assign_mapping(&mut schema, &mut next);
        assert_eq!(next, 5);
        let ids: Vec<i64> = [
            &schema["fields"][0],
            &schema["fields"][1],
            &schema["fields"][1]["type"]["fields"][0],
            &schema["fields"][2],
            &schema["fields"][2]["type"]["elementType"]["fields"][0],
        ]
        .iter()
        .map(|f| f["metadata"][ID_KEY].as_i64().unwrap())
        .collect();
        assert_eq!(ids, vec![1, 2, 3, 4, 5]);
        assert_eq!(schema["fields"][1]["metadata"][PHYSICAL_NAME_KEY], "s");
        assert_eq!(max_assigned_id(&schema), 5);
    }

    #[test]
    fn protocol_upgrade_follows_the_protocol_form() {
        let mut legacy = json!({"minReaderVersion": 1, "minWriterVersion": 2});
        enable_in_protocol(&mut legacy);
        assert_eq!(
            legacy,
            json!({"minReaderVersion": 2, "minWriterVersion": 5})
        );
        let mut features = json!({"minReaderVersion": 3, "minWriterVersion": 7,
            "readerFeatures": ["deletionVectors"], "writerFeatures": ["appendOnly"]});
        enable_in_protocol(&mut features);
        assert_eq!(
            features["readerFeatures"],
            json!(["deletionVectors", "columnMapping"])
        );
        assert_eq!(
            features["writerFeatures"],
            json!(["appendOnly", "columnMapping"])
        );
        let mut writer_only = json!({"minReaderVersion": 1, "minWriterVersion": 7,
            "writerFeatures": ["appendOnly"]});
        enable_in_protocol(&mut writer_only);
        assert_eq!(writer_only["minReaderVersion"], 2);
        assert_eq!(
            writer_only["writerFeatures"],
            json!(["appendOnly", "columnMapping"])
        );
    }

    #[test]
    fn constraint_mentions_are_words() {
        assert!(names_column("qty > 0 AND price IS NOT NULL", "QTY"));
        assert!(!names_column("quantity > 0", "qty"));
    }
}
