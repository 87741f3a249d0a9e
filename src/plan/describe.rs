//! Spark's table introspection statements, answered from the catalog and the Delta log:
//! `SHOW TABLES [IN s] [LIKE 'pattern']`, `SHOW COLUMNS IN t`, `DESCRIBE [TABLE] [EXTENDED] t`
//! and `SHOW CREATE TABLE t` (DDL that recreates the table: columns, partitioning, location of
//! an external table, properties and CHECK constraints). Types are shown with PostgreSQL's names,
//! as psql and every other catalog view of deltagres shows them.

use std::sync::Arc;

use datafusion::arrow::array::{BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use sqlparser::ast::{Ident, ObjectName};

use super::{PlanContext, resolve_table};
use crate::catalog::{TableRef, format_type};
use crate::delta;
use crate::error::{Error, ErrorKind, Result};
use crate::output::QueryOutput;

/// `SHOW TABLES [IN | FROM s] [LIKE 'pattern']`: Spark's columns (`namespace`, `tableName`,
/// `isTemporary`), views included, the session's temporary tables last.
pub fn show_tables(
    cx: &PlanContext<'_>,
    schema: Option<&Ident>,
    pattern: Option<&str>,
) -> Result<QueryOutput> {
    use datafusion::catalog::SchemaProvider;
    let schema = match schema {
        Some(ident) => super::normalize_ident(ident),
        None => cx.default_schema.to_string(),
    };
    if !cx.catalog.schema_exists(&schema) {
        return Err(Error::new(
            ErrorKind::UndefinedSchema,
            format!("schema \"{schema}\" does not exist"),
        ));
    }
    let matcher = pattern.map(spark_like).transpose()?;
    let mut rows: Vec<(String, String, bool)> = cx
        .catalog
        .table_names(&schema)
        .into_iter()
        .chain(cx.catalog.view_names(&schema))
        .map(|name| (schema.clone(), name, false))
        .collect();
    rows.sort();
    let mut temp = cx.temp.table_names();
    temp.sort();
    rows.extend(temp.into_iter().map(|name| (String::new(), name, true)));
    rows.retain(|(_, name, _)| matcher.as_ref().is_none_or(|m| m.is_match(name)));
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("namespace", DataType::Utf8, false),
            Field::new("tableName", DataType::Utf8, false),
            Field::new("isTemporary", DataType::Boolean, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.1))),
            Arc::new(BooleanArray::from_iter(rows.iter().map(|r| Some(r.2)))),
        ],
    )?;
    Ok(QueryOutput::from_batch(batch, "SHOW"))
}

/// `SHOW COLUMNS IN t [IN s]`: one `col_name` row per column.
pub async fn show_columns(cx: &PlanContext<'_>, table: &ObjectName) -> Result<QueryOutput> {
    let (_, schema) = relation_schema(cx, table).await?;
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "col_name",
            DataType::Utf8,
            false,
        )])),
        vec![Arc::new(StringArray::from(names))],
    )?;
    Ok(QueryOutput::from_batch(batch, "SHOW"))
}

/// `DESCRIBE [TABLE] [EXTENDED] t`: `col_name`, `data_type`, `comment` per column, then (as
/// Spark) the partition columns and, with EXTENDED, the table's facts.
pub async fn describe_table(
    cx: &PlanContext<'_>,
    table: &ObjectName,
    extended: bool,
) -> Result<QueryOutput> {
    let (table_ref, schema) = relation_schema(cx, table).await?;
    let mut rows: Vec<[String; 3]> = schema
        .fields()
        .iter()
        .map(|f| {
            let mut data_type = format_type(f);
            if !f.is_nullable() {
                data_type.push_str(" not null");
            }
            let comment = crate::delta::column_comment(f).unwrap_or_default();
            [f.name().clone(), data_type, comment]
        })
        .collect();
    let delta_table = match &table_ref {
        Some(t) if cx.catalog.table_exists(t) => Some(cx.catalog.load(t).await?),
        _ => None,
    };
    if let Some(loaded) = &delta_table {
        let partitions = loaded.snapshot()?.metadata().partition_columns().to_vec();
        if !partitions.is_empty() {
            rows.push(Default::default());
            rows.push([
                "# Partition Information".into(),
                String::new(),
                String::new(),
            ]);
            rows.push(["# col_name".into(), "data_type".into(), "comment".into()]);
            for name in partitions {
                let data_type = schema
                    .field_with_name(&name)
                    .map(format_type)
                    .unwrap_or_default();
                rows.push([name.to_string(), data_type, String::new()]);
            }
        }
    }
    if extended {
        rows.push(Default::default());
        rows.push([
            "# Detailed Table Information".into(),
            String::new(),
            String::new(),
        ]);
        match (&table_ref, &delta_table) {
            (Some(t), Some(loaded)) => {
                let snapshot = loaded.snapshot()?;
                let metadata = snapshot.metadata();
                let (location, external) = cx
                    .catalog
                    .table_location(t)
                    .ok_or_else(|| Error::undefined_table(&t.table))?;
                let mut facts = vec![
                    ("Catalog", crate::catalog::CATALOG_NAME.to_string()),
                    ("Database", t.schema.clone()),
                    ("Table", t.table.clone()),
                    (
                        "Type",
                        if external { "EXTERNAL" } else { "MANAGED" }.to_string(),
                    ),
                    ("Provider", "delta".to_string()),
                    ("Location", location.to_string()),
                    ("Version", loaded.version().unwrap_or_default().to_string()),
                ];
                if let Some(comment) = metadata.description() {
                    facts.push(("Comment", comment.to_string()));
                }
                let mut properties: Vec<_> = metadata.configuration().iter().collect();
                properties.sort();
                let properties: Vec<String> =
                    properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
                facts.push(("Table Properties", format!("[{}]", properties.join(","))));
                rows.extend(
                    facts
                        .into_iter()
                        .map(|(k, v)| [k.to_string(), v, String::new()]),
                );
            }
            (Some(t), None) if cx.catalog.view(t).is_some() => {
                let view = cx
                    .catalog
                    .view(t)
                    .ok_or_else(|| Error::undefined_table(&t.table))?;
                rows.push(["Database".into(), t.schema.clone(), String::new()]);
                rows.push(["Table".into(), t.table.clone(), String::new()]);
                rows.push(["Type".into(), "VIEW".into(), String::new()]);
                rows.push(["View Text".into(), view.query.clone(), String::new()]);
            }
            _ => rows.push(["Type".into(), "TEMPORARY".into(), String::new()]),
        }
    }
    let column = |i: usize| -> Arc<StringArray> {
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r[i])))
    };
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("col_name", DataType::Utf8, false),
            Field::new("data_type", DataType::Utf8, false),
            Field::new("comment", DataType::Utf8, false),
        ])),
        vec![column(0), column(1), column(2)],
    )?;
    Ok(QueryOutput::from_batch(batch, "DESCRIBE"))
}

/// `SHOW CREATE TABLE t`: one `createtab_stmt` row with the DDL that recreates the table (or
/// view) here, and that Spark reads as well.
pub async fn show_create_table(cx: &PlanContext<'_>, table: &ObjectName) -> Result<QueryOutput> {
    let table_ref = resolve_table(table, cx.default_schema)?;
    let statement = if let Some(view) = cx.catalog.view(&table_ref) {
        format!("CREATE VIEW {} AS {}", quoted_name(&table_ref), view.query)
    } else if cx.catalog.table_exists(&table_ref) {
        let loaded = cx.catalog.load(&table_ref).await?;
        create_table_ddl(cx, &table_ref, &loaded)?
    } else {
        return Err(Error::undefined_table(&table_ref.table));
    };
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "createtab_stmt",
            DataType::Utf8,
            false,
        )])),
        vec![Arc::new(StringArray::from(vec![statement]))],
    )?;
    Ok(QueryOutput::from_batch(batch, "SHOW"))
}

/// The clause of each column whose values the table makes: `DEFAULT expr`, `GENERATED ALWAYS
/// AS (expr) STORED` (the stored Spark SQL text read back with PostgreSQL's quoting), `GENERATED
/// ALWAYS | BY DEFAULT AS IDENTITY (START WITH n INCREMENT BY m)`.
fn made_column_clauses(loaded: &deltalake::DeltaTable) -> Result<Vec<(String, String)>> {
    let mut clauses: Vec<(String, String)> = delta::column_defaults(loaded)?
        .into_iter()
        .map(|(column, text)| (column, format!("DEFAULT {text}")))
        .collect();
    for (column, text) in delta::generated_columns(loaded)? {
        let expr = super::names::parse_stored_expression(&text)?;
        clauses.push((column, format!("GENERATED ALWAYS AS ({expr}) STORED")));
    }
    for identity in delta::identity_columns(loaded)? {
        let kind = if identity.always {
            "ALWAYS"
        } else {
            "BY DEFAULT"
        };
        clauses.push((
            identity.name,
            format!(
                "GENERATED {kind} AS IDENTITY (START WITH {} INCREMENT BY {})",
                identity.start, identity.step
            ),
        ));
    }
    Ok(clauses)
}

fn create_table_ddl(
    cx: &PlanContext<'_>,
    table_ref: &TableRef,
    loaded: &deltalake::DeltaTable,
) -> Result<String> {
    let schema = delta::table_arrow_schema(loaded)?;
    let snapshot = loaded.snapshot()?;
    let metadata = snapshot.metadata();
    let made = made_column_clauses(loaded)?;
    let mut lines: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            let not_null = if f.is_nullable() { "" } else { " NOT NULL" };
            let made = made
                .iter()
                .find(|(c, _)| c == f.name())
                .map(|(_, clause)| format!(" {clause}"))
                .unwrap_or_default();
            format!(
                "  {} {}{not_null}{made}",
                Ident::with_quote('"', f.name()),
                format_type(f)
            )
        })
        .collect();
    let mut properties: Vec<(&String, &String)> = metadata.configuration().iter().collect();
    properties.sort();
    for (key, expr) in &properties {
        if let Some(name) = key.strip_prefix("delta.constraints.") {
            lines.push(format!(
                "  CONSTRAINT {} CHECK ({expr})",
                Ident::with_quote('"', name)
            ));
        }
    }
    let mut ddl = format!(
        "CREATE TABLE {} (\n{}\n)\nUSING DELTA",
        quoted_name(table_ref),
        lines.join(",\n")
    );
    let partitions = metadata.partition_columns();
    if !partitions.is_empty() {
        let names: Vec<String> = partitions
            .iter()
            .map(|p| Ident::with_quote('"', p).to_string())
            .collect();
        ddl.push_str(&format!("\nPARTITIONED BY ({})", names.join(", ")));
    }
    if let Some((location, true)) = cx.catalog.table_location(table_ref) {
        let path = location
            .to_file_path()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| location.to_string());
        ddl.push_str(&format!("\nLOCATION '{}'", path.replace('\'', "''")));
    }
    if let Some(comment) = metadata.description() {
        ddl.push_str(&format!("\nCOMMENT '{}'", comment.replace('\'', "''")));
    }
    let plain: Vec<String> = properties
        .iter()
        .filter(|(k, _)| !k.starts_with("delta.constraints."))
        .map(|(k, v)| {
            format!(
                "  '{}' = '{}'",
                k.replace('\'', "''"),
                v.replace('\'', "''")
            )
        })
        .collect();
    if !plain.is_empty() {
        ddl.push_str(&format!("\nTBLPROPERTIES (\n{}\n)", plain.join(",\n")));
    }
    Ok(ddl)
}

fn quoted_name(table: &TableRef) -> String {
    format!(
        "{}.{}",
        Ident::with_quote('"', &table.schema),
        Ident::with_quote('"', &table.table)
    )
}

/// The columns of a table, view or temporary table, through the session's own catalog (so
/// views and temporary tables answer too); the catalog name of a table or view.
async fn relation_schema(
    cx: &PlanContext<'_>,
    name: &ObjectName,
) -> Result<(Option<TableRef>, datafusion::arrow::datatypes::SchemaRef)> {
    let temp = super::temp_tables::is_temp_name(name);
    let table_ref = if temp {
        None
    } else {
        Some(resolve_table(name, cx.default_schema)?)
    };
    let reference = match &table_ref {
        Some(t) => datafusion::common::TableReference::partial(t.schema.clone(), t.table.clone()),
        None => datafusion::common::TableReference::partial(
            crate::catalog::TEMP_SCHEMA,
            name.0
                .last()
                .and_then(|p| p.as_ident())
                .map(super::normalize_ident)
                .unwrap_or_default(),
        ),
    };
    let provider = cx.df.table_provider(reference).await.map_err(|_| {
        Error::undefined_table(
            table_ref
                .as_ref()
                .map(|t| t.table.clone())
                .unwrap_or_else(|| name.to_string()),
        )
    })?;
    Ok((table_ref, provider.schema()))
}

/// Spark's `LIKE` pattern for SHOW TABLES: `*` any characters, `|` alternatives, case-insensitive.
fn spark_like(pattern: &str) -> Result<regex::Regex> {
    let alternatives: Vec<String> = pattern
        .split('|')
        .map(|alt| {
            alt.trim()
                .split('*')
                .map(regex::escape)
                .collect::<Vec<_>>()
                .join(".*")
        })
        .collect();
    regex::RegexBuilder::new(&format!("^(?:{})$", alternatives.join("|")))
        .case_insensitive(true)
        .build()
        .map_err(|e| Error::syntax(format!("bad SHOW TABLES pattern '{pattern}': {e}")))
}
