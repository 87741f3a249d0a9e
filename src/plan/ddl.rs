//! CREATE / DROP / ALTER: catalog changes, each backed by a Delta commit or a directory change.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::Schema;
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::sql::parser::Statement as DfStatement;
use deltalake::kernel::StructField;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use sqlparser::ast::{self, ColumnDef, ObjectName, ObjectType, SchemaName};
use sqlparser::dialect::PostgreSqlDialect;
use url::Url;

use super::{PlanContext, normalize_ident, resolve_table};
use crate::catalog::TableRef;
use crate::delta::{self, CreateOptions};
use crate::dialect::CreateTable;
use crate::error::{Error, ErrorKind, Result};
use crate::session::{CommandTag, Notice, QueryOutput};

/// `CREATE SCHEMA [IF NOT EXISTS] s`.
pub fn create_schema(
    cx: &mut PlanContext<'_>,
    name: &SchemaName,
    if_not_exists: bool,
) -> Result<QueryOutput> {
    let name = match name {
        SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => single_name(n)?,
        SchemaName::UnnamedAuthorization(ident) => normalize_ident(ident),
    };
    if !cx.catalog.create_schema(&name, if_not_exists)? {
        cx.notices.push(Notice::note(
            "42P06",
            format!("schema \"{name}\" already exists, skipping"),
        ));
    }
    Ok(command("CREATE SCHEMA"))
}

/// `DROP TABLE | SCHEMA [IF EXISTS] name, ... [CASCADE]`.
pub fn drop(
    cx: &mut PlanContext<'_>,
    object_type: ObjectType,
    if_exists: bool,
    names: &[ObjectName],
    cascade: bool,
) -> Result<QueryOutput> {
    match object_type {
        ObjectType::View => super::views::drop_views(cx, names, if_exists, cascade),
        ObjectType::Table => {
            for name in names {
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
                cx.catalog.drop_views(&views)?;
                if !cx.catalog.drop_table(&table, if_exists)? {
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
                if !cx.catalog.drop_schema(&schema, if_exists, cascade)? {
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
pub async fn create_table(cx: &mut PlanContext<'_>, create: CreateTable) -> Result<QueryOutput> {
    if let Some(using) = &create.using
        && !using.value.eq_ignore_ascii_case("delta")
    {
        return Err(Error::unsupported(format!(
            "USING {using} is not supported: every table is a Delta table"
        )));
    }
    let table_ref = resolve_table(&create.name, cx.default_schema)?;
    crate::catalog::validate_table_name(&table_ref)?;
    if let Some(constraint) = create.constraints.first() {
        return Err(match constraint {
            ast::TableConstraint::Check(_) => Error::unsupported(format!(
                "{constraint}: CHECK constraints are not supported here"
            ))
            .with_hint("check the rows in the query that loads the table"),
            _ => key_not_enforced(&constraint.to_string()),
        });
    }
    if !cx.catalog.schema_exists(&table_ref.schema) {
        return Err(Error::new(
            ErrorKind::UndefinedSchema,
            format!("schema \"{}\" does not exist", table_ref.schema),
        ));
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
    }
    let options = CreateOptions {
        name: table_ref.table.clone(),
        partition_columns: create.partitioned_by.iter().map(normalize_ident).collect(),
        properties: create.properties.iter().cloned().collect::<HashMap<_, _>>(),
        comment: create.comment.clone(),
        replace: existing.is_some(),
    };
    let (location, external, created_dir) = match (&existing, &create.location) {
        (Some((url, external)), _) => (url.clone(), *external, None),
        (None, Some(path)) => {
            let path = external_path(path, cx.catalog.data_dir())?;
            let path = cx.allowed_paths.check(&path.to_string_lossy())?;
            let (url, created) = prepare_dir(&path)?;
            (url, true, created)
        }
        (None, None) => {
            let (url, created) = prepare_dir(&cx.catalog.managed_path(&table_ref))?;
            (url, false, created)
        }
    };
    let result = create_delta_table(cx, &create, &table_ref, location.clone(), &options).await;
    let table = match result {
        Ok(table) => table,
        Err(e) => {
            if let Some(dir) = created_dir {
                let _ = std::fs::remove_dir_all(dir);
            }
            return Err(e);
        }
    };
    if existing.is_none() {
        cx.catalog.register_table(&table_ref, location, external)?;
    }
    if create.query.is_some() {
        let rows = delta::row_count(&table).unwrap_or(0);
        return Ok(QueryOutput::Command(CommandTag::Select(rows)));
    }
    Ok(command("CREATE TABLE"))
}

async fn create_delta_table(
    cx: &mut PlanContext<'_>,
    create: &CreateTable,
    table_ref: &TableRef,
    location: Url,
    options: &CreateOptions,
) -> Result<deltalake::DeltaTable> {
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
            let table =
                delta::write_plan(location, plan, options, std::sync::Arc::new(ctx.state()))
                    .await?;
            planned.report(cx.notices);
            Ok(table)
        }
        (None, false) => {
            let schema = columns_schema(cx, &create.columns).await?;
            delta::create_empty(location, &schema, options).await
        }
        (None, true) if create.location.is_some() => {
            deltalake::open_table(location.clone()).await.map_err(|e| {
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

/// `CREATE TABLE t (a INT, b TEXT) AS query` (DataFusion's form): the query's columns, in order,
/// take the declared names and types.
fn with_declared_columns(plan: LogicalPlan, columns: &Schema) -> Result<LogicalPlan> {
    let produced = plan.schema().columns();
    if produced.len() != columns.fields().len() {
        return Err(Error::new(
            ErrorKind::Syntax,
            format!(
                "CREATE TABLE declares {} columns but its query returns {}",
                columns.fields().len(),
                produced.len()
            ),
        ));
    }
    let exprs = produced
        .into_iter()
        .zip(columns.fields())
        .map(|(column, field)| {
            datafusion::logical_expr::cast(
                datafusion::logical_expr::Expr::Column(column),
                field.data_type().clone(),
            )
            .alias(field.name())
        })
        .collect::<Vec<_>>();
    Ok(datafusion::logical_expr::LogicalPlanBuilder::from(plan)
        .project(exprs)?
        .build()?)
}

/// `ALTER TABLE t ADD COLUMN [IF NOT EXISTS] c type`, and `RENAME TO` (see `rename`).
pub async fn alter_table(cx: &mut PlanContext<'_>, alter: ast::AlterTable) -> Result<QueryOutput> {
    if let [ast::AlterTableOperation::RenameTable { table_name }] = alter.operations.as_slice() {
        let (ast::RenameTableNameKind::To(to) | ast::RenameTableNameKind::As(to)) = table_name;
        let kind = super::rename::Kind::Table;
        return super::rename::rename(cx, kind, &alter.name, alter.if_exists, to).await;
    }
    let table_ref = resolve_table(&alter.name, cx.default_schema)?;
    if !cx.catalog.table_exists(&table_ref) {
        if alter.if_exists {
            cx.notices.push(Notice::note(
                "00000",
                format!("relation \"{}\" does not exist, skipping", table_ref.table),
            ));
            return Ok(command("ALTER TABLE"));
        }
        return Err(Error::undefined_table(&table_ref.table));
    }
    let mut new_fields = Vec::new();
    let (_turn, table) = cx.load_for_rewrite(&table_ref).await?;
    let existing: Vec<String> = table
        .snapshot()?
        .schema()
        .fields()
        .map(|f| f.name().to_string())
        .collect();
    for op in &alter.operations {
        match op {
            ast::AlterTableOperation::AddColumn {
                if_not_exists,
                column_def,
                ..
            } => {
                let schema = columns_schema(cx, std::slice::from_ref(column_def)).await?;
                let field = schema.field(0);
                if existing.contains(field.name()) {
                    if *if_not_exists {
                        cx.notices.push(Notice::note(
                            "42701",
                            format!(
                                "column \"{}\" of relation \"{}\" already exists, skipping",
                                field.name(),
                                table_ref.table
                            ),
                        ));
                        continue;
                    }
                    return Err(Error::new(
                        ErrorKind::DuplicateColumn,
                        format!(
                            "column \"{}\" of relation \"{}\" already exists",
                            field.name(),
                            table_ref.table
                        ),
                    ));
                }
                if !field.is_nullable() {
                    return Err(Error::unsupported(format!(
                        "cannot add NOT NULL column \"{}\": rows already in a Delta table would violate it",
                        field.name()
                    )));
                }
                let delta_schema = delta::to_delta_arrow_schema(&Schema::new(vec![field.clone()]))?;
                let struct_field: StructField =
                    delta_schema.field(0).try_into_kernel().map_err(|e| {
                        Error::new(
                            ErrorKind::DatatypeMismatch,
                            format!("unsupported column type: {e}"),
                        )
                    })?;
                new_fields.push(struct_field);
            }
            other => {
                return Err(Error::unsupported(format!(
                    "ALTER TABLE {other} is not supported yet (only ADD COLUMN)"
                )));
            }
        }
    }
    if !new_fields.is_empty() {
        table.add_columns().with_fields(new_fields).await?;
    }
    Ok(command("ALTER TABLE"))
}

/// Arrow types for column definitions, using DataFusion's own SQL type mapping (so `VARCHAR(20)`,
/// `NUMERIC(12,2)`, `TIMESTAMPTZ`, arrays and NOT NULL mean what they mean in queries).
async fn columns_schema(cx: &PlanContext<'_>, columns: &[ColumnDef]) -> Result<Schema> {
    for column in columns {
        check_column_options(column)?;
    }
    // JSON documents are stored as text (Delta has no JSON type).
    let list: Vec<String> = columns
        .iter()
        .map(|c| {
            let mut c = c.clone();
            match c.data_type {
                ast::DataType::JSON | ast::DataType::JSONB => c.data_type = ast::DataType::Text,
                // PostgreSQL's long spelling of VARCHAR, which DataFusion does not know.
                ast::DataType::CharacterVarying(length) | ast::DataType::CharVarying(length) => {
                    c.data_type = ast::DataType::Varchar(length)
                }
                _ => {}
            }
            c.to_string()
        })
        .collect();
    let sql = format!("CREATE TABLE __deltagres_columns ({})", list.join(", "));
    let statement = sqlparser::parser::Parser::parse_sql(&PostgreSqlDialect {}, &sql)?
        .pop()
        .ok_or_else(|| Error::internal("column list did not parse"))?;
    let plan = cx
        .df
        .state()
        .statement_to_plan(DfStatement::Statement(Box::new(statement)))
        .await?;
    match plan {
        LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(create)) => {
            Ok(create.input.schema().as_arrow().clone())
        }
        other => Err(Error::internal(format!(
            "unexpected plan for a column list: {}",
            other.display()
        ))),
    }
}

/// Refuses the column options a Delta table cannot keep, rather than dropping them: DataFusion's
/// column-list planner accepts DEFAULT, keys and identity and then ignores them, which would
/// store NULL defaults and duplicate keys without a word.
fn check_column_options(column: &ColumnDef) -> Result<()> {
    use ast::ColumnOption as O;
    for option in &column.options {
        let refused = match &option.option {
            O::Null | O::NotNull => continue,
            O::Default(ast::Expr::Value(v)) if matches!(v.value, ast::Value::Null) => continue,
            O::Default(_) => Error::unsupported(format!(
                "column \"{}\": DEFAULT values are not supported (delta-rs cannot write tables with Delta's allowColumnDefaults feature)",
                column.name
            ))
            .with_hint("give the value in each INSERT, or fill it with UPDATE ... WHERE c IS NULL"),
            O::PrimaryKey(_) | O::Unique(_) | O::ForeignKey(_) => key_not_enforced(&column.name.to_string()),
            O::Check(_) => Error::unsupported(format!(
                "column \"{}\": column CHECK constraints are not supported here",
                column.name
            ))
            .with_hint("check the rows in the query that loads the table"),
            O::Generated { .. } | O::Identity(_) => Error::unsupported(format!(
                "column \"{}\": generated and identity columns are not supported yet",
                column.name
            ))
            .with_hint("compute the value in the INSERT (e.g. row_number() OVER () + max id)"),
            other => Error::unsupported(format!(
                "column \"{}\": option {other} is not supported",
                column.name
            )),
        };
        return Err(refused);
    }
    Ok(())
}

/// PRIMARY KEY / UNIQUE / FOREIGN KEY: Delta tables cannot enforce them, and accepting them
/// unenforced would let a script that relies on them store duplicates.
fn key_not_enforced(what: &str) -> Error {
    Error::unsupported(format!(
        "{what}: PRIMARY KEY, UNIQUE and FOREIGN KEY constraints are not supported: Delta tables cannot enforce them"
    ))
    .with_hint("declare the key columns NOT NULL and deduplicate with MERGE INTO (which refuses a target row matched twice)")
}

/// A LOCATION as a path: absolute paths and `file://` URLs as given, relative paths under the data
/// directory.
fn external_path(location: &str, data_dir: &Path) -> Result<PathBuf> {
    if let Some(rest) = location.strip_prefix("file://") {
        return Ok(PathBuf::from(rest));
    }
    if location.contains("://") {
        return Err(Error::unsupported(format!(
            "LOCATION {location}: only local paths are supported so far"
        )));
    }
    let path = PathBuf::from(location);
    Ok(if path.is_absolute() {
        path
    } else {
        data_dir.join(path)
    })
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

/// ``CONVERT TO DELTA parquet.`path` [PARTITIONED BY (...)]``: a Delta log for parquet files in place.
pub async fn convert_to_delta(
    cx: &mut PlanContext<'_>,
    location: &str,
    partitioned_by: &[ColumnDef],
) -> Result<QueryOutput> {
    let path = cx.allowed_paths.check(location)?;
    let mut builder = deltalake::operations::convert_to_delta::ConvertToDeltaBuilder::new()
        .with_location(path.to_string_lossy().to_string());
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
