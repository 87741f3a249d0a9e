//! `ALTER TABLE`: add columns, CHECK constraints, table properties and column nullability, each
//! a Delta metadata commit in the protocol's own form (`delta.constraints.<name>`, the table
//! configuration, the schema's `nullable`), so Spark and the deltalake package enforce and read
//! them too. `RENAME COLUMN`, `DROP COLUMN` and `ADD COLUMN` on such tables are column-mapping
//! metadata commits (`delta::change_columns`). `RENAME TO` is in `rename`.

use std::collections::HashMap;

use datafusion::arrow::datatypes::Schema;
use deltalake::kernel::StructField;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use sqlparser::ast::{self, AlterColumnOperation, AlterTableOperation, SqlOption};

use super::names::normalize_ident;
use super::{PlanContext, resolve_table};
use crate::catalog::TableRef;
use crate::delta;
use crate::error::{Error, ErrorKind, Result};
use crate::output::{CommandTag, Notice, QueryOutput};

/// `ALTER TABLE [IF EXISTS] t <action>`.
pub async fn alter_table(cx: &mut PlanContext<'_>, alter: ast::AlterTable) -> Result<QueryOutput> {
    if let [AlterTableOperation::RenameTable { table_name }] = alter.operations.as_slice() {
        let (ast::RenameTableNameKind::To(to) | ast::RenameTableNameKind::As(to)) = table_name;
        let kind = super::rename::Kind::Table;
        return super::rename::rename(cx, kind, &alter.name, alter.if_exists, to).await;
    }
    let table_ref = resolve_table(&alter.name, cx.default_schema)?;
    if !cx.catalog.table_exists(&table_ref) {
        if cx.catalog.view(&table_ref).is_some() {
            return Err(super::views::wrong_kind(
                &table_ref.table,
                "a table",
                "ALTER VIEW",
            ));
        }
        if alter.if_exists {
            cx.notices.push(Notice::note(
                "00000",
                format!("relation \"{}\" does not exist, skipping", table_ref.table),
            ));
            return Ok(done());
        }
        return Err(Error::undefined_table(&table_ref.table));
    }
    let all_add_columns = alter
        .operations
        .iter()
        .all(|op| matches!(op, AlterTableOperation::AddColumn { .. }));
    let all_drop_columns = alter
        .operations
        .iter()
        .all(|op| matches!(op, AlterTableOperation::DropColumn { .. }));
    if alter.operations.len() > 1 && !all_add_columns && !all_drop_columns {
        // Each action is its own Delta commit: several would not be one atomic statement.
        return Err(Error::unsupported(
            "ALTER TABLE with several actions is supported only for ADD COLUMN or DROP COLUMN; run one statement per action",
        ));
    }
    if all_add_columns {
        return add_columns(cx, &table_ref, &alter.operations).await;
    }
    if all_drop_columns {
        return drop_columns(cx, &table_ref, &alter.operations).await;
    }
    let (_turn, table) = cx.load_for_rewrite(&table_ref).await?;
    match &alter.operations[0] {
        AlterTableOperation::AddConstraint { constraint, .. } => {
            let ast::TableConstraint::Check(check) = constraint else {
                return Err(Error::unsupported(format!(
                    "{constraint}: Delta tables cannot enforce keys; only CHECK constraints can be added"
                )));
            };
            let name = match &check.name {
                Some(name) => normalize_ident(name),
                None => default_check_name(&table, &table_ref)?,
            };
            if constraints(&table)?.contains_key(&name) {
                return Err(Error::new(
                    ErrorKind::DuplicateObject,
                    format!(
                        "constraint \"{name}\" for relation \"{}\" already exists",
                        table_ref.table
                    ),
                ));
            }
            delta::operable(&table)?
                .add_constraint()
                .with_constraint(name, super::names::spark_sql_text(&check.expr))
                .with_session_state(std::sync::Arc::new(cx.df.state()))
                .with_commit_properties(delta::quiet_commit())
                .await
                .map_err(existing_rows_violate)?;
        }
        AlterTableOperation::DropConstraint {
            if_exists, name, ..
        } => {
            let name = normalize_ident(name);
            if !constraints(&table)?.contains_key(&name) {
                let message = format!(
                    "constraint \"{name}\" of relation \"{}\" does not exist",
                    table_ref.table
                );
                if *if_exists {
                    cx.notices
                        .push(Notice::note("00000", format!("{message}, skipping")));
                    return Ok(done());
                }
                return Err(Error::new(ErrorKind::UndefinedObject, message));
            }
            delta::operable(&table)?
                .drop_constraints()
                .with_constraint(name)
                .with_commit_properties(delta::quiet_commit())
                .await?;
        }
        AlterTableOperation::SetTblProperties { table_properties }
        | AlterTableOperation::SetOptionsParens {
            options: table_properties,
        } => {
            let mut properties = property_map(table_properties)?;
            let table = match properties.remove(delta::COLUMN_MAPPING_MODE) {
                None => table,
                Some(mode) if mode.eq_ignore_ascii_case("name") => {
                    if delta::maps_columns(&table)? {
                        table
                    } else {
                        delta::change_columns(table, delta::ColumnChange::Enable).await?
                    }
                }
                Some(mode) => {
                    return Err(Error::unsupported(format!(
                        "delta.columnMapping.mode '{mode}' is not supported: only 'name' can be set"
                    )));
                }
            };
            if properties.is_empty() {
                return Ok(done());
            }
            // Delta's own keys must be ones it knows (Spark refuses a misspelt one too); other
            // keys are the user's (`'team' = 'retail'`).
            for key in properties.keys() {
                if key.starts_with("delta.") && key.parse::<deltalake::TableProperty>().is_err() {
                    return Err(Error::new(
                        ErrorKind::InvalidParameterValue,
                        format!("unknown Delta table property '{key}'"),
                    )
                    .with_hint("Delta's properties are listed at https://docs.delta.io/latest/table-properties.html"));
                }
            }
            delta::operable(&table)?
                .set_tbl_properties()
                .with_properties(properties)
                .with_raise_if_not_exists(false)
                .with_commit_properties(delta::quiet_commit())
                .await?;
        }
        AlterTableOperation::AlterColumn { column_name, op } => {
            let column = normalize_ident(column_name);
            let schema = table.snapshot()?.schema();
            if schema.field(&column).is_none() {
                return Err(no_such_column(&column, &table_ref));
            }
            match op {
                AlterColumnOperation::DropNotNull => {
                    if !schema.field(&column).is_some_and(|f| f.is_nullable()) {
                        delta::operable(&table)?
                            .drop_column_not_null()
                            .with_column(column)
                            .with_commit_properties(delta::quiet_commit())
                            .await?;
                    }
                }
                AlterColumnOperation::SetNotNull => {
                    let nulls = count_nulls(cx, &table_ref, &column).await?;
                    if nulls > 0 {
                        return Err(Error::new(
                            ErrorKind::NotNullViolation,
                            format!(
                                "column \"{column}\" of relation \"{}\" contains null values",
                                table_ref.table
                            ),
                        ));
                    }
                    delta::set_not_null(table, &column).await?;
                }
                AlterColumnOperation::SetDefault { value } => {
                    refuse_made_column(&table, &column, &table_ref, false)?;
                    let default = if super::column_defaults::is_null_literal(value) {
                        None
                    } else {
                        let columns = delta::table_arrow_schema(&table)?;
                        let field = columns.field_with_name(&column)?;
                        Some(super::column_defaults::declared(cx, &column, value, field).await?)
                    };
                    delta::set_column_default(table, &column, default).await?;
                }
                AlterColumnOperation::DropDefault => {
                    refuse_made_column(&table, &column, &table_ref, true)?;
                    delta::set_column_default(table, &column, None).await?;
                }
                AlterColumnOperation::SetDataType {
                    data_type,
                    using: None,
                    ..
                } if text_type(data_type) => {
                    set_text_type(cx, table, &table_ref, &column, data_type).await?;
                }
                other => {
                    return Err(Error::unsupported(format!(
                        "ALTER COLUMN {other} is not supported (SET / DROP NOT NULL, SET / DROP DEFAULT and TYPE between text types are)"
                    )));
                }
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            let from = normalize_ident(old_column_name);
            let to = normalize_ident(new_column_name);
            let schema = table.snapshot()?.schema();
            if schema.field(&from).is_none() {
                return Err(no_such_column(&from, &table_ref));
            }
            if schema.field(&to).is_some() {
                return Err(Error::new(
                    ErrorKind::DuplicateColumn,
                    format!(
                        "column \"{to}\" of relation \"{}\" already exists",
                        table_ref.table
                    ),
                ));
            }
            delta::change_columns(table, delta::ColumnChange::Rename { from, to }).await?;
        }
        other => {
            return Err(Error::unsupported(format!(
                "ALTER TABLE ... {other} is not supported yet"
            )));
        }
    }
    Ok(done())
}

/// An identity or generated column has no default to set or drop (42601, as in PostgreSQL,
/// whose hint for a DROP DEFAULT names the DROP that applies instead).
fn refuse_made_column(
    table: &deltalake::DeltaTable,
    column: &str,
    table_ref: &TableRef,
    dropping: bool,
) -> Result<()> {
    let kind = if delta::identity_columns(table)?
        .iter()
        .any(|c| c.name == column)
    {
        ("an identity column", "DROP IDENTITY")
    } else if delta::generated_columns(table)?
        .iter()
        .any(|(c, _)| c == column)
    {
        ("a generated column", "DROP EXPRESSION")
    } else {
        return Ok(());
    };
    let error = Error::syntax(format!(
        "column \"{column}\" of relation \"{}\" is {}",
        table_ref.table, kind.0
    ));
    Err(if dropping {
        error.with_hint(format!(
            "Use ALTER TABLE ... ALTER COLUMN ... {} instead.",
            kind.1
        ))
    } else {
        error
    })
}

/// `ALTER TABLE t UNSET TBLPROPERTIES [IF EXISTS] ('k', ...)`.
pub async fn unset_properties(
    cx: &mut PlanContext<'_>,
    name: &ast::ObjectName,
    keys: &[String],
    if_exists: bool,
) -> Result<QueryOutput> {
    let table_ref = resolve_table(name, cx.default_schema)?;
    if !cx.catalog.table_exists(&table_ref) {
        return Err(Error::undefined_table(&table_ref.table));
    }
    let (_turn, table) = cx.load_for_rewrite(&table_ref).await?;
    let (_, missing) = delta::unset_properties(table, keys, if_exists).await?;
    for key in missing {
        cx.notices.push(Notice::note(
            "00000",
            format!("table has no property '{key}', skipping"),
        ));
    }
    Ok(done())
}

/// `ADD COLUMN [IF NOT EXISTS] c type, ...`: one commit for all of them.
async fn add_columns(
    cx: &mut PlanContext<'_>,
    table_ref: &TableRef,
    operations: &[AlterTableOperation],
) -> Result<QueryOutput> {
    let (_turn, table) = cx.load_for_rewrite(table_ref).await?;
    let mut existing: Vec<String> = table
        .snapshot()?
        .schema()
        .fields()
        .map(|f| f.name().to_string())
        .collect();
    let mut new_fields = Vec::new();
    for op in operations {
        let AlterTableOperation::AddColumn {
            if_not_exists,
            column_def,
            ..
        } = op
        else {
            continue;
        };
        let schema =
            super::table_columns::columns_schema(cx, std::slice::from_ref(column_def)).await?;
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
            ))
            .with_hint("add the column, fill it with UPDATE, then ALTER COLUMN ... SET NOT NULL"));
        }
        let delta_schema = delta::to_delta_arrow_schema(&Schema::new(vec![field.clone()]))?;
        let struct_field: StructField = delta_schema.field(0).try_into_kernel().map_err(|e| {
            Error::new(
                ErrorKind::DatatypeMismatch,
                format!("unsupported column type: {e}"),
            )
        })?;
        existing.push(field.name().clone());
        new_fields.push(struct_field);
    }
    if new_fields.is_empty() {
        return Ok(done());
    }
    if delta::maps_columns(&table)? {
        // delta-rs's ADD COLUMN refuses tables with column mapping (a renamed or dropped column).
        let change = delta::ColumnChange::Add { fields: new_fields };
        delta::change_columns(table, change).await?;
    } else {
        delta::operable(&table)?
            .add_columns()
            .with_fields(new_fields)
            .await?;
    }
    Ok(done())
}

/// `DROP COLUMN [IF EXISTS] a [, DROP COLUMN b ...]`: one commit that removes the fields from the
/// schema through column mapping (the data files keep them, unread; VACUUM after a rewrite
/// reclaims the space), as Spark drops columns.
async fn drop_columns(
    cx: &mut PlanContext<'_>,
    table_ref: &TableRef,
    operations: &[AlterTableOperation],
) -> Result<QueryOutput> {
    let (_turn, table) = cx.load_for_rewrite(table_ref).await?;
    let schema = table.snapshot()?.schema();
    let mut columns: Vec<String> = Vec::new();
    for op in operations {
        let AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            ..
        } = op
        else {
            continue;
        };
        for name in column_names {
            let column = normalize_ident(name);
            if schema.field(&column).is_none() {
                if *if_exists {
                    cx.notices.push(Notice::note(
                        "00000",
                        format!(
                            "column \"{column}\" of relation \"{}\" does not exist, skipping",
                            table_ref.table
                        ),
                    ));
                    continue;
                }
                return Err(no_such_column(&column, table_ref));
            }
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
    }
    if !columns.is_empty() {
        delta::change_columns(table, delta::ColumnChange::Drop { columns }).await?;
    }
    Ok(done())
}

pub(super) fn no_such_column(column: &str, table_ref: &TableRef) -> Error {
    Error::new(
        ErrorKind::UndefinedColumn,
        format!(
            "column \"{column}\" of relation \"{}\" does not exist",
            table_ref.table
        ),
    )
}

/// The table's CHECK constraints by name (`delta.constraints.<name>` = expression).
pub fn constraints(table: &deltalake::DeltaTable) -> Result<HashMap<String, String>> {
    Ok(table
        .snapshot()?
        .metadata()
        .configuration()
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("delta.constraints.")
                .map(|name| (name.to_string(), v.clone()))
        })
        .collect())
}

/// PostgreSQL's name for an unnamed table CHECK constraint: `<table>_check`, numbered when taken.
fn default_check_name(table: &deltalake::DeltaTable, table_ref: &TableRef) -> Result<String> {
    let taken = constraints(table)?;
    let base = format!("{}_check", table_ref.table);
    let mut name = base.clone();
    let mut n = 1;
    while taken.contains_key(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    Ok(name)
}

/// `('k' = 'v', ...)` as a map; keys and values are strings (quoted or not).
fn property_map(options: &[SqlOption]) -> Result<HashMap<String, String>> {
    let unquote = |e: &ast::Expr| match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => s.clone(),
            other => other.to_string(),
        },
        other => other.to_string(),
    };
    options
        .iter()
        .map(|option| match option {
            SqlOption::KeyValue { key, value } => Ok((key.value.clone(), unquote(value))),
            other => Err(Error::syntax(format!(
                "table property {other} needs the form 'key' = 'value'"
            ))),
        })
        .collect()
}

/// Whether `data_type` is one of the text types: `text`, `varchar[(n)]`, `char[(n)]`.
fn text_type(data_type: &ast::DataType) -> bool {
    matches!(
        data_type,
        ast::DataType::Text
            | ast::DataType::Varchar(None)
            | ast::DataType::CharacterVarying(None)
            | ast::DataType::CharVarying(None)
            | ast::DataType::String(None)
    ) || crate::dialect::declared_char_type(data_type).is_some()
}

/// `ALTER COLUMN c TYPE text | varchar[(n)] | char(n)` of a text column: Delta stores all of
/// them as strings, so only the declared type (the column's metadata) changes, after the rows
/// are checked as PostgreSQL's rewrite would check them: a value longer than the new length
/// fails with 22001. A value with trailing spaces would lose them in a `char(n)` column, which
/// this change does not rewrite: refused, with the UPDATE that does it.
async fn set_text_type(
    cx: &PlanContext<'_>,
    table: deltalake::DeltaTable,
    table_ref: &TableRef,
    column: &str,
    data_type: &ast::DataType,
) -> Result<()> {
    let arrow_schema = delta::table_arrow_schema(&table)?;
    let field = arrow_schema
        .field_with_name(column)
        .map_err(|_| no_such_column(column, table_ref))?;
    let current = crate::semantics::CharType::of(field);
    let is_string = matches!(
        field.data_type(),
        datafusion::arrow::datatypes::DataType::Utf8
            | datafusion::arrow::datatypes::DataType::Utf8View
            | datafusion::arrow::datatypes::DataType::LargeUtf8
    );
    if !is_string || crate::semantics::json_flavor_of(field).is_some() {
        return Err(Error::unsupported(format!(
            "ALTER COLUMN {column} TYPE {data_type} is not supported: the column is not text (Delta tables cannot change a column's type in place)"
        ))
        .with_hint("add a column of the new type, fill it with UPDATE, drop the old one and rename the new one"));
    }
    let target = crate::dialect::declared_char_type(data_type);
    let quoted = ast::Ident::with_quote('"', column).to_string();
    if let Some(target) = target {
        let too_long = count_rows_where(
            cx,
            table_ref,
            &format!("character_length({quoted}) > {}", target.length),
        )
        .await?;
        if too_long > 0 {
            return Err(Error::new(
                ErrorKind::StringDataRightTruncation,
                format!("value too long for type {}", target.pg_name()),
            ));
        }
        let was_char = current.is_some_and(|c| c.kind == crate::semantics::CharKind::Char);
        if target.kind == crate::semantics::CharKind::Char && !was_char {
            let padded = count_rows_where(cx, table_ref, &format!("{quoted} LIKE '% '")).await?;
            if padded > 0 {
                return Err(Error::unsupported(format!(
                    "ALTER COLUMN {column} TYPE {}: {padded} values end in spaces, which a char column does not keep",
                    target.pg_name()
                ))
                .with_hint(format!("UPDATE the table SET {quoted} = rtrim({quoted}) first")));
            }
        }
    }
    delta::set_column_metadata(
        table,
        column,
        crate::semantics::CHAR_TYPE_KEY,
        target.map(|t| t.tag()),
    )
    .await?;
    Ok(())
}

/// How many rows hold NULL in `column` (SET NOT NULL checks the rows first, as PostgreSQL).
async fn count_nulls(cx: &PlanContext<'_>, table: &TableRef, column: &str) -> Result<u64> {
    let quoted = ast::Ident::with_quote('"', column);
    count_rows_where(cx, table, &format!("{quoted} IS NULL")).await
}

/// How many rows of `table` meet `condition` (SQL text).
async fn count_rows_where(cx: &PlanContext<'_>, table: &TableRef, condition: &str) -> Result<u64> {
    let sql = format!(
        "SELECT count(*) FROM {}.{} WHERE {condition}",
        ast::Ident::with_quote('"', &table.schema),
        ast::Ident::with_quote('"', &table.table),
    );
    let batches = cx.df.sql(&sql).await?.collect().await?;
    Ok(batches
        .first()
        .and_then(|b| {
            datafusion::arrow::array::AsArray::as_primitive_opt::<
                datafusion::arrow::datatypes::Int64Type,
            >(b.column(0))
            .map(|a| a.value(0))
        })
        .unwrap_or(0) as u64)
}

/// delta-rs checks the rows already in the table before adding a constraint.
fn existing_rows_violate(e: deltalake::DeltaTableError) -> Error {
    let error = Error::from(e);
    if error.kind == ErrorKind::CheckViolation {
        return Error::new(
            ErrorKind::CheckViolation,
            "check constraint is violated by some row",
        )
        .with_detail(error.detail.clone().unwrap_or_default());
    }
    error
}

fn done() -> QueryOutput {
    QueryOutput::Command(CommandTag::Other("ALTER TABLE".into()))
}
