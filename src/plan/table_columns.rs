//! The columns of a new table: a column list as Arrow fields (DataFusion's SQL type mapping, with
//! the marks of json / jsonb, uuid and varchar(n) / char(n) columns), the column options a Delta
//! table cannot keep refused, and a CREATE TABLE ... AS query's columns named and typed as
//! declared and made nullable.

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::logical_expr::{DdlStatement, LogicalPlan};
use datafusion::sql::parser::Statement as DfStatement;
use sqlparser::ast::{self, ColumnDef};
use sqlparser::dialect::PostgreSqlDialect;

use super::PlanContext;
use crate::error::{Error, ErrorKind, Result};
use crate::semantics::JsonFlavor;

/// `plan` with every column nullable: CREATE TABLE ... AS takes the query's values, not its
/// NOT NULL constraints (PostgreSQL's columns are nullable there). A column that is not is
/// taken through a TRY_CAST to its own type (nullable, and a no-op on the values), keeping its
/// field and metadata.
pub(super) fn nullable_columns(plan: LogicalPlan) -> Result<LogicalPlan> {
    use datafusion::logical_expr::{Expr, TryCast};
    let schema = plan.schema().clone();
    if schema.fields().iter().all(|f| f.is_nullable()) {
        return Ok(plan);
    }
    let columns: Vec<Expr> = schema
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(datafusion::common::Column::from((qualifier, field)));
            if field.is_nullable() {
                return column;
            }
            let nullable = std::sync::Arc::new(field.as_ref().clone().with_nullable(true));
            Expr::TryCast(TryCast::new_from_field(Box::new(column), nullable))
                .alias_qualified(qualifier.cloned(), field.name())
        })
        .collect();
    Ok(datafusion::logical_expr::LogicalPlanBuilder::from(plan)
        .project(columns)?
        .build()?)
}

/// `CREATE TABLE t (a INT, b TEXT) AS query` (DataFusion's form): the query's columns, in order,
/// take the declared names and types.
pub(super) fn with_declared_columns(plan: LogicalPlan, columns: &Schema) -> Result<LogicalPlan> {
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

/// Arrow types for column definitions, using DataFusion's own SQL type mapping (so `VARCHAR(20)`,
/// `NUMERIC(12,2)`, `TIMESTAMPTZ`, arrays and NOT NULL mean what they mean in queries).
pub(super) async fn columns_schema(cx: &PlanContext<'_>, columns: &[ColumnDef]) -> Result<Schema> {
    for column in columns {
        check_column_options(column)?;
    }
    // JSON documents and uuids are stored as text (Delta has neither type).
    let list: Vec<String> = columns
        .iter()
        .map(|c| {
            let mut c = c.clone();
            match c.data_type {
                ast::DataType::JSON | ast::DataType::JSONB | ast::DataType::Uuid => {
                    c.data_type = ast::DataType::Text
                }
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
            // Columns declared json / jsonb, uuid, varchar(n) or char(n) are marked, so writes
            // check their values.
            let schema = create.input.schema().as_arrow().clone();
            let fields: Vec<Field> = schema
                .fields()
                .iter()
                .zip(columns)
                .map(|(field, column)| match column.data_type {
                    ast::DataType::JSON => {
                        super::column_input::mark(field.as_ref().clone(), JsonFlavor::Json)
                    }
                    ast::DataType::JSONB => {
                        super::column_input::mark(field.as_ref().clone(), JsonFlavor::Jsonb)
                    }
                    ast::DataType::Uuid => crate::semantics::mark_uuid(field.as_ref().clone()),
                    // varchar(n) / char(n): the length, which writes check.
                    ref declared => match crate::dialect::declared_char_type(declared) {
                        Some(char_type) => char_type.mark(field.as_ref().clone()),
                        None => field.as_ref().clone(),
                    },
                })
                .collect();
            Ok(Schema::new_with_metadata(fields, schema.metadata().clone()))
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
            // A Delta table's defaults are taken out before (`create_table`); what reaches here
            // is a temporary table's or an added column's.
            O::Default(_) => Error::unsupported(format!(
                "column \"{}\": DEFAULT values are supported in CREATE TABLE of a Delta table and in ALTER COLUMN ... SET DEFAULT only",
                column.name
            ))
            .with_hint("ADD COLUMN without the default, then ALTER COLUMN ... SET DEFAULT (existing rows keep NULL)"),
            O::PrimaryKey(_) | O::Unique(_) | O::ForeignKey(_) => key_not_enforced(&column.name.to_string()),
            O::Check(_) => Error::unsupported(format!(
                "column \"{}\": column CHECK constraints are not supported here",
                column.name
            ))
            .with_hint("check the rows in the query that loads the table"),
            O::Generated { .. } | O::Identity(_) => Error::unsupported(format!(
                "column \"{}\": {} is not supported",
                column.name, option.option
            ))
            .with_hint("identity columns are GENERATED ALWAYS | BY DEFAULT AS IDENTITY [(START WITH n INCREMENT BY m)]; generated columns GENERATED ALWAYS AS (expr)"),
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
pub(super) fn key_not_enforced(what: &str) -> Error {
    Error::unsupported(format!(
        "{what}: PRIMARY KEY, UNIQUE and FOREIGN KEY constraints are not supported: Delta tables cannot enforce them"
    ))
    .with_hint("declare the key columns NOT NULL and deduplicate with MERGE INTO (which refuses a target row matched twice)")
}
