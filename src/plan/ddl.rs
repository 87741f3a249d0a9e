//! CREATE / DROP / ALTER: catalog changes, each backed by a Delta commit or a directory change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::{Field, Schema};
use deltalake::kernel::StructField;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use sqlparser::ast::{self, ColumnDef, ObjectName, ObjectType, SchemaName};
use url::Url;

use super::table_columns::{
    columns_schema, key_not_enforced, nullable_columns, with_declared_columns,
};
use super::{PlanContext, normalize_ident, resolve_table};
use crate::catalog::{CheckedLocation, TableRef};
use crate::delta::{self, CreateOptions};
use crate::dialect::CreateTable;
use crate::error::{Error, ErrorKind, Result};
use crate::output::{CommandTag, Notice, QueryOutput};

/// `CREATE SCHEMA [IF NOT EXISTS] s`.
pub async fn create_schema(
    cx: &mut PlanContext<'_>,
    name: &SchemaName,
    if_not_exists: bool,
) -> Result<QueryOutput> {
    let name = match name {
        SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => single_name(n)?,
        SchemaName::UnnamedAuthorization(ident) => normalize_ident(ident),
    };
    let catalog = cx.catalog.clone();
    let _ddl = catalog.lock_ddl().await;
    if !cx.catalog.create_schema(&name, if_not_exists).await? {
        cx.notices.push(Notice::note(
            "42P06",
            format!("schema \"{name}\" already exists, skipping"),
        ));
    }
    Ok(command("CREATE SCHEMA"))
}

/// `DROP TABLE | SCHEMA [IF EXISTS] name, ... [CASCADE]`.
pub async fn drop(
    cx: &mut PlanContext<'_>,
    object_type: ObjectType,
    if_exists: bool,
    names: &[ObjectName],
    cascade: bool,
) -> Result<QueryOutput> {
    let catalog = cx.catalog.clone();
    let _ddl = catalog.lock_ddl().await;
    match object_type {
        ObjectType::View => super::views::drop_views(cx, names, if_exists, cascade).await,
        ObjectType::Table => {
            for name in names {
                if super::temp_tables::is_temp_name(name) {
                    if !super::temp_tables::drop(cx.temp, name)? && !if_exists {
                        return Err(Error::new(
                            ErrorKind::UndefinedTable,
                            format!("table \"{}\" does not exist", name),
                        ));
                    }
                    continue;
                }
                let table = resolve_table(name, cx.default_schema)?;
                if cx.catalog.view(&table).is_some() {
                    return Err(super::views::wrong_kind(
                        &table.table,
                        "a table",
                        "DROP VIEW",
                    ));
                }
                let views = if cx.catalog.table_exists(&table) {
                    super::views::dependents_to_drop(cx, &table, "table", cascade)?
                } else {
                    Vec::new()
                };
                cx.catalog.drop_views(&views).await?;
                if !cx.catalog.drop_table(&table, if_exists).await? {
                    cx.notices.push(Notice::note(
                        "00000",
                        format!("table \"{}\" does not exist, skipping", table.table),
                    ));
                }
            }
            Ok(command("DROP TABLE"))
        }
        ObjectType::Schema => {
            for name in names {
                let schema = single_name(name)?;
                if !cx.catalog.drop_schema(&schema, if_exists, cascade).await? {
                    cx.notices.push(Notice::note(
                        "00000",
                        format!("schema \"{schema}\" does not exist, skipping"),
                    ));
                }
            }
            Ok(command("DROP SCHEMA"))
        }
        other => Err(Error::unsupported(format!("DROP {other} is not supported"))),
    }
}

/// `CREATE [OR REPLACE] TABLE ...` in all its forms: column list, AS SELECT, or LOCATION of an
/// existing Delta table (attach).
pub async fn create_table(
    cx: &mut PlanContext<'_>,
    mut create: CreateTable,
) -> Result<QueryOutput> {
    // A column's CHECK is a table constraint on that column (PostgreSQL names it t_c_check).
    let table_name = create
        .name
        .0
        .last()
        .and_then(|p| p.as_ident())
        .map(normalize_ident)
        .unwrap_or_default();
    // `GENERATED ALWAYS AS (expr) [STORED]`: Delta's generated columns (delta-rs computes them).
    let mut generated: Vec<(String, String)> = Vec::new();
    // `GENERATED ALWAYS | BY DEFAULT AS IDENTITY`: Delta's identity columns.
    let mut identity: Vec<crate::delta::IdentityColumn> = Vec::new();
    // `DEFAULT expr`: Delta's column defaults (`DEFAULT NULL` is no default).
    let mut defaults: Vec<(String, ast::Expr)> = Vec::new();
    for column in &mut create.columns {
        let column_name = normalize_ident(&column.name);
        if let Some(serial) = super::identity::serial(column, &column_name)? {
            identity.push(serial);
        }
        let mut kept = Vec::new();
        for option in std::mem::take(&mut column.options) {
            match option.option {
                ast::ColumnOption::Default(expr)
                    if super::column_defaults::is_null_literal(&expr) => {}
                ast::ColumnOption::Default(expr) => defaults.push((column_name.clone(), expr)),
                ast::ColumnOption::Generated {
                    generated_as: ast::GeneratedAs::Always | ast::GeneratedAs::ExpStored,
                    generation_expr: Some(expr),
                    sequence_options: None,
                    ..
                } => {
                    generated.push((column_name.clone(), super::names::spark_sql_text(&expr)));
                }
                ast::ColumnOption::Generated {
                    generated_as:
                        generated_as @ (ast::GeneratedAs::Always | ast::GeneratedAs::ByDefault),
                    generation_expr: None,
                    sequence_options,
                    ..
                } => identity.push(super::identity::declared(
                    column,
                    &column_name,
                    matches!(generated_as, ast::GeneratedAs::Always),
                    sequence_options.as_deref().unwrap_or_default(),
                )?),
                ast::ColumnOption::Check(mut check) => {
                    if check.name.is_none() {
                        check.name = option.name.clone().or_else(|| {
                            Some(ast::Ident::new(format!("{table_name}_{column_name}_check")))
                        });
                    }
                    create.constraints.push(ast::TableConstraint::Check(check));
                }
                _ => kept.push(option),
            }
        }
        column.options = kept;
        if defaults.iter().any(|(c, _)| *c == column_name) {
            let both = if identity.iter().any(|c| c.name == column_name) {
                Some("identity")
            } else if generated.iter().any(|(c, _)| *c == column_name) {
                Some("generation expression")
            } else {
                None
            };
            if let Some(other) = both {
                return Err(Error::syntax(format!(
                    "both default and {other} specified for column \"{column_name}\" of table \"{table_name}\""
                )));
            }
        }
    }
    if let Some(using) = &create.using
        && !using.value.eq_ignore_ascii_case("delta")
    {
        return Err(Error::unsupported(format!(
            "USING {using} is not supported: every table is a Delta table"
        )));
    }
    let table_ref = resolve_table(&create.name, cx.default_schema)?;
    crate::catalog::validate_table_name(&table_ref)?;
    if !identity.is_empty() && create.query.is_some() {
        return Err(Error::unsupported(
            "identity columns in CREATE TABLE ... AS are not supported",
        )
        .with_hint("create the table with its columns, then INSERT ... SELECT"));
    }
    if !defaults.is_empty() && create.query.is_some() {
        return Err(
            Error::unsupported("column defaults in CREATE TABLE ... AS are not supported")
                .with_hint("create the table with its columns, then INSERT ... SELECT"),
        );
    }
    if !generated.is_empty() && create.query.is_some() {
        return Err(Error::unsupported(
            "generated columns in CREATE TABLE ... AS are not supported",
        )
        .with_hint("create the table with its columns, then INSERT ... SELECT"));
    }
    let mut checks = Vec::new();
    for constraint in &create.constraints {
        match constraint {
            ast::TableConstraint::Check(check) if create.query.is_none() => {
                checks.push(check.clone())
            }
            ast::TableConstraint::Check(_) => {
                return Err(Error::unsupported(format!(
                    "{constraint}: CHECK constraints in CREATE TABLE ... AS are not supported"
                ))
                .with_hint("create the table, then ALTER TABLE ... ADD CONSTRAINT"));
            }
            _ => return Err(key_not_enforced(&constraint.to_string())),
        }
    }
    if !cx.catalog.schema_exists(&table_ref.schema) {
        return Err(Error::new(
            ErrorKind::UndefinedSchema,
            format!("schema \"{}\" does not exist", table_ref.schema),
        ));
    }
    if create.clone.is_some() {
        check_clone_clauses(&create)?;
    }
    let catalog = cx.catalog.clone();
    let _ddl = catalog.lock_ddl().await;
    let existing = cx.catalog.table_location(&table_ref);
    if existing.is_none() && cx.catalog.view(&table_ref).is_some() {
        return Err(Error::new(
            ErrorKind::DuplicateTable,
            format!("relation \"{}\" already exists", table_ref.table),
        )
        .with_hint("a view of this name exists"));
    }
    if existing.is_some() {
        if create.if_not_exists {
            cx.notices.push(Notice::note(
                "42P07",
                format!("relation \"{}\" already exists, skipping", table_ref.table),
            ));
            return Ok(command("CREATE TABLE"));
        }
        if !create.or_replace {
            return Err(Error::new(
                ErrorKind::DuplicateTable,
                format!("relation \"{}\" already exists", table_ref.table),
            ));
        }
        if create.clone.is_some() {
            return Err(Error::unsupported(
                "CREATE OR REPLACE TABLE ... CLONE of an existing table is not supported yet",
            )
            .with_hint("DROP TABLE it first, then CLONE"));
        }
    }
    let options = CreateOptions {
        name: table_ref.table.clone(),
        partition_columns: create.partitioned_by.iter().map(normalize_ident).collect(),
        properties: create.properties.iter().cloned().collect::<HashMap<_, _>>(),
        comment: create.comment.clone(),
        replace: existing.is_some(),
        storage: cx.catalog.storage_options().clone(),
    };
    let (location, external, created_dir) = match (&existing, &create.location) {
        (Some((url, external)), _) => (url.clone(), *external, None),
        (None, Some(path)) => {
            let (url, created) = external_location(cx, path)?;
            (url, true, created)
        }
        (None, None) => {
            let (url, created) = cx.catalog.warehouse().prepare_table(&table_ref).await?;
            (url, false, created)
        }
    };
    let result = create_delta_table(
        cx,
        &create,
        &MadeColumns {
            generated,
            identity,
            defaults,
        },
        &table_ref,
        location.clone(),
        &options,
    )
    .await;
    let table = match result {
        Ok(table) => table,
        Err(e) => {
            if external {
                if let Some(dir) = created_dir {
                    let _ = std::fs::remove_dir_all(dir);
                }
            } else if existing.is_none() {
                cx.catalog
                    .warehouse()
                    .discard_failed_create(&table_ref, created_dir)
                    .await;
            }
            return Err(e);
        }
    };
    let table = if checks.is_empty() {
        table
    } else {
        // The table is empty (a column list): adding them cannot fail on its rows.
        let mut builder = table.add_constraint();
        for (i, check) in checks.iter().enumerate() {
            let name = match &check.name {
                Some(name) => normalize_ident(name),
                None if i == 0 => format!("{}_check", table_ref.table),
                None => format!("{}_check{i}", table_ref.table),
            };
            builder = builder.with_constraint(name, super::names::spark_sql_text(&check.expr));
        }
        builder
            .with_session_state(std::sync::Arc::new(cx.df.state()))
            .with_commit_properties(delta::quiet_commit())
            .await?
    };
    if existing.is_none() {
        cx.catalog
            .register_table(&table_ref, location, external)
            .await?;
    }
    if create.query.is_some() && !create.from_like {
        let rows = delta::row_count(&table).unwrap_or(0);
        return Ok(QueryOutput::Command(CommandTag::Select(rows)));
    }
    Ok(command("CREATE TABLE"))
}

/// The columns of a CREATE TABLE whose values the table makes when a write leaves them out.
struct MadeColumns {
    /// Generated columns and their expressions (Spark SQL text).
    generated: Vec<(String, String)>,
    /// Identity columns.
    identity: Vec<crate::delta::IdentityColumn>,
    /// Columns with a DEFAULT and its expression as declared.
    defaults: Vec<(String, ast::Expr)>,
}

async fn create_delta_table(
    cx: &mut PlanContext<'_>,
    create: &CreateTable,
    made: &MadeColumns,
    table_ref: &TableRef,
    location: Url,
    options: &CreateOptions,
) -> Result<deltalake::DeltaTable> {
    if let Some(clone) = &create.clone {
        return clone_into(cx, clone, location, options).await;
    }
    match (&create.query, create.columns.is_empty()) {
        (Some(query), columns_empty) => {
            let mut statement = ast::Statement::Query(query.clone());
            let versioned = super::timetravel::resolve(cx, &mut statement).await?;
            let ctx = versioned.as_ref().unwrap_or(cx.df);
            let planned = super::planned::plan_statement(ctx, cx.settings, statement).await?;
            let plan = if columns_empty {
                planned.plan.clone()
            } else {
                let columns = columns_schema(cx, &create.columns).await?;
                with_declared_columns(planned.plan.clone(), &columns)?
            };
            // LIKE keeps NOT NULL; AS makes every column nullable, as in PostgreSQL.
            let plan = if create.from_like {
                plan
            } else {
                nullable_columns(plan)?
            };
            let table =
                delta::write_plan(location, plan, options, std::sync::Arc::new(ctx.state()))
                    .await?;
            planned.report(cx.notices);
            Ok(table)
        }
        (None, false) => {
            let schema = columns_schema(cx, &create.columns).await?;
            let fields: Vec<Field> = schema
                .fields()
                .iter()
                .map(
                    |f| match made.generated.iter().find(|(c, _)| c == f.name()) {
                        Some((_, expr)) => f.as_ref().clone().with_metadata(HashMap::from([(
                            delta::GENERATION_EXPRESSION.to_string(),
                            expr.clone(),
                        )])),
                        None => f.as_ref().clone(),
                    },
                )
                .map(|f| super::identity::declare_field(f, &made.identity))
                .collect();
            let mut fields = fields;
            for field in &mut fields {
                if let Some((column, expr)) = made.defaults.iter().find(|(c, _)| c == field.name())
                {
                    let text = super::column_defaults::declared(cx, column, expr, field).await?;
                    let mut metadata = field.metadata().clone();
                    metadata.insert(delta::CURRENT_DEFAULT.to_string(), text);
                    *field = field.clone().with_metadata(metadata);
                }
            }
            delta::create_empty(location, &Schema::new(fields), options).await
        }
        (None, true) if create.location.is_some() => {
            let opened = async {
                cx.catalog
                    .storage_options()
                    .table_builder(&location)?
                    .load()
                    .await
                    .map_err(Error::from)
            };
            opened.await.map_err(|e| {
                Error::new(
                    ErrorKind::UndefinedTable,
                    format!("no Delta table at LOCATION {location}: {e}"),
                )
                .with_hint("LOCATION without a column list attaches an existing Delta table")
            })
        }
        (None, true) => Err(Error::syntax(format!(
            "CREATE TABLE {table_ref} needs a column list, AS SELECT, or the LOCATION of an existing Delta table"
        ))),
    }
}

/// A LOCATION as a URL, checked against `storage.allowed_paths`: object-store URLs as given,
/// absolute paths and `file://` URLs as given, relative paths under the data directory (a local
/// folder is created when missing; its path is returned to remove should the CREATE fail).
fn external_location(cx: &PlanContext<'_>, location: &str) -> Result<(Url, Option<PathBuf>)> {
    let warehouse = cx.catalog.warehouse();
    let written = match location.strip_prefix("file://") {
        Some(rest) => rest.to_string(),
        None if location.contains("://") => location.to_string(),
        None if Path::new(location).is_absolute() => location.to_string(),
        None => match warehouse.local_dir() {
            Some(dir) => dir.join(location).to_string_lossy().to_string(),
            None => warehouse
                .url()?
                .join(location)
                .map_err(|e| Error::syntax(format!("invalid LOCATION {location}: {e}")))?
                .to_string(),
        },
    };
    match cx.allowed_paths.check_location(&written)? {
        CheckedLocation::Local(path) => prepare_dir(&path),
        CheckedLocation::Store(url) => Ok((crate::delta::dir_form(url), None)),
    }
}

/// Creates the directory when missing; returns its URL and, if we created it, the path to remove
/// should the statement fail.
fn prepare_dir(path: &Path) -> Result<(Url, Option<PathBuf>)> {
    let created = if path.exists() {
        None
    } else {
        std::fs::create_dir_all(path)?;
        Some(path.to_path_buf())
    };
    Ok((crate::catalog::dir_url(path)?, created))
}

fn single_name(name: &ObjectName) -> Result<String> {
    match name.0.as_slice() {
        [part] => part
            .as_ident()
            .map(normalize_ident)
            .ok_or_else(|| Error::syntax(format!("invalid name {name}"))),
        _ => Err(Error::syntax(format!("schema names have one part: {name}"))),
    }
}

fn command(tag: &str) -> QueryOutput {
    QueryOutput::Command(CommandTag::Other(tag.to_string()))
}

/// A CLONE takes its columns, partitioning and data from its source: only LOCATION,
/// TBLPROPERTIES and COMMENT may go with it.
fn check_clone_clauses(create: &CreateTable) -> Result<()> {
    if !create.columns.is_empty()
        || create.query.is_some()
        || !create.partitioned_by.is_empty()
        || !create.constraints.is_empty()
    {
        return Err(Error::syntax(
            "CREATE TABLE ... CLONE takes its columns, partitioning and rows from the source; \
             only LOCATION, TBLPROPERTIES and COMMENT can go with it",
        ));
    }
    Ok(())
}

/// Version 0 of the new table at `location` as a SHALLOW or DEEP clone of the source's version
/// (see [`delta::clone_table`]); a NOTICE says what it holds.
async fn clone_into(
    cx: &mut PlanContext<'_>,
    clone: &crate::dialect::CloneOf,
    location: Url,
    options: &CreateOptions,
) -> Result<deltalake::DeltaTable> {
    let source_ref = resolve_table(&clone.source, cx.default_schema)?;
    if !cx.catalog.table_exists(&source_ref) {
        return Err(Error::undefined_table(&source_ref));
    }
    let source = match &clone.version {
        Some(travel) => super::timetravel::load_at(cx, &source_ref, travel).await?,
        None => cx.catalog.load(&source_ref).await?,
    };
    let kind = if clone.shallow {
        delta::CloneKind::Shallow
    } else {
        delta::CloneKind::Deep
    };
    let (table, metrics) = delta::clone_table(&source, location, options, kind).await?;
    cx.notices.push(Notice::note(
        "00000",
        format!(
            "{} clone of {source_ref} at version {}: {} files, {}{}",
            if clone.shallow { "shallow" } else { "deep" },
            source.version().unwrap_or_default(),
            metrics.files,
            crate::plan::explain::human_bytes(metrics.bytes.max(0) as u64),
            if clone.shallow {
                " read from the source's folder".to_string()
            } else {
                format!(", {} copied", metrics.copied)
            }
        ),
    ));
    Ok(table)
}

/// ``CONVERT TO DELTA parquet.`path` [PARTITIONED BY (...)]``: a Delta log for parquet files in place.
pub async fn convert_to_delta(
    cx: &mut PlanContext<'_>,
    location: &str,
    partitioned_by: &[ColumnDef],
) -> Result<QueryOutput> {
    let builder = deltalake::operations::convert_to_delta::ConvertToDeltaBuilder::new();
    let mut builder = match cx.allowed_paths.check_location(location)? {
        CheckedLocation::Local(path) => builder.with_location(path.to_string_lossy().to_string()),
        CheckedLocation::Store(url) => builder
            .with_location(crate::delta::dir_form(url).to_string())
            .with_storage_options(cx.catalog.storage_options().to_map()),
    };
    if !partitioned_by.is_empty() {
        let schema = delta::to_delta_arrow_schema(&columns_schema(cx, partitioned_by).await?)?;
        let fields = schema
            .fields()
            .iter()
            .map(|f| f.as_ref().try_into_kernel())
            .collect::<std::result::Result<Vec<StructField>, _>>()
            .map_err(|e| {
                Error::new(
                    ErrorKind::DatatypeMismatch,
                    format!("unsupported partition column type: {e}"),
                )
            })?;
        builder = builder.with_partition_schema(fields);
    }
    builder.await?;
    Ok(command("CONVERT TO DELTA"))
}
