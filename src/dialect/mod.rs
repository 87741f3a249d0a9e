//! The SQL dialect of deltagres: PostgreSQL syntax plus the Databricks/Spark lakehouse statements.
//!
//! Parsing happens here and only here. [`parse_sql`] turns text into our own [`Statement`] enum: the
//! statements sqlparser already understands are wrapped as they are, and the lakehouse forms that it
//! does not (Spark's `CREATE TABLE ... USING DELTA PARTITIONED BY ... LOCATION ...`) get variants of
//! their own, so later layers never have to guess what a statement really is.

mod array_slices;
mod compat;
mod descriptions;
mod fetch_first;
mod from_functions;
mod json_from;
mod lakehouse;
mod lateral_top_n;
mod order_subqueries;
mod ordered_inputs;
mod output_names;
mod parsed_catalog_queries;
mod parser;
mod pg_forms;
mod pg_functions;
mod pg_input;
mod pg_rewrites;
mod pg_types;
mod pg_values;
mod quantified_subqueries;
mod regclass_names;
mod row_compare;
mod row_in;
mod statement;
mod table_shorthand;
mod table_statements;
mod tuple_assignments;
mod viewdef;

pub use json_from::mentions_column;
pub use lakehouse::LakehouseDialect;
pub use output_names::display_name;
pub(crate) use pg_rewrites::call;
pub(crate) use pg_rewrites::{and_all, conjuncts};
pub(crate) use pg_rewrites::{call as function_call, case_when};
pub use pg_types::declared_char_type;
pub use statement::{CloneOf, CreateTable, STAR_COLUMN, Statement, TimeTravel};

use crate::error::{Error, Result};

/// `INSERT ... ON CONFLICT` (and MySQL's `ON DUPLICATE KEY`) is 0A000 with the MERGE that
/// does it; DataFusion's refusal said 42000.
fn refuse_insert_on_conflict(statement: &sqlparser::ast::Statement) -> Result<()> {
    match statement {
        sqlparser::ast::Statement::Insert(insert) if insert.on.is_some() => Err(Error::new(
            crate::error::ErrorKind::FeatureNotSupported,
            "INSERT ... ON CONFLICT / ON DUPLICATE KEY is not supported",
        )
        .with_hint(
            "write it as MERGE INTO t USING (VALUES ...) AS s (...) ON t.key = s.key \
             WHEN MATCHED THEN UPDATE SET ... WHEN NOT MATCHED THEN INSERT ...",
        )),
        _ => Ok(()),
    }
}

/// Parses one or more `;`-separated statements (a simple-query message or a script), with the
/// catalog queries of known clients rewritten into forms the engine runs.
pub fn parse_sql(sql: &str) -> Result<Vec<Statement>> {
    // Decided once, on the text the client sent.
    let catalog_query = compat::is_catalog_query(sql);
    if catalog_query {
        return parsed_catalog_queries::get_or_parse(sql, parse_uncached);
    }
    parse_uncached(sql, false)
}

/// [`parse_sql`] without the cache of catalog queries; `catalog_query` is whether the text
/// looks like one.
fn parse_uncached(sql: &str, catalog_query: bool) -> Result<Vec<Statement>> {
    let substituted = catalog_query
        .then(|| compat::substitute_client_fragments(sql))
        .flatten();
    let sql = substituted.as_deref().unwrap_or(sql);
    let mut statements = parser::parse_statements(sql)?;
    // The text only says where to look; the relations decide (user tables are never rewritten).
    let catalog_query = catalog_query && compat::reads_only_catalog(&statements);
    if catalog_query {
        statements = compat::rewrite_client_catalog_queries(sql, statements);
    }
    for statement in &mut statements {
        pg_types::rewrite(statement);
        match statement {
            Statement::Sql(sql) => {
                let as_written: Vec<sqlparser::ast::Expr> = set_default_values(sql)
                    .into_iter()
                    .map(|v| v.clone())
                    .collect();
                // Named first: PostgreSQL names columns after the query as written.
                output_names::name_result_columns(sql);
                fetch_first::rewrite(sql.as_mut());
                lateral_top_n::rewrite(sql.as_mut());
                tuple_assignments::rewrite(sql.as_mut())?;
                refuse_insert_on_conflict(sql)?;
                json_from::rewrite(sql)?;
                from_functions::rewrite(sql)?;
                row_in::rewrite(sql);
                row_compare::rewrite(sql);
                quantified_subqueries::rewrite(sql);
                pg_rewrites::rewrite(sql, catalog_query);
                pg_values::rewrite(sql);
                order_subqueries::rewrite(sql);
                ordered_inputs::rewrite(sql);
                for (value, written) in set_default_values(sql).into_iter().zip(as_written) {
                    *value = written;
                }
            }
            Statement::CreateTable(create) => {
                if let Some(query) = create.query.as_mut() {
                    output_names::name_query(query);
                    fetch_first::rewrite(query.as_mut());
                    lateral_top_n::rewrite_query(query.as_mut());
                    json_from::rewrite_query(query)?;
                    from_functions::rewrite_query(query)?;
                    row_in::rewrite_query(query);
                    row_compare::rewrite_query(query);
                    pg_values::rewrite_query(query);
                    ordered_inputs::rewrite_query(query);
                }
            }
            // Its source query, conditions and values: `s.d::jsonb`, PostgreSQL's functions and
            // literals mean there what they mean in queries.
            Statement::Merge { merge, .. } => {
                tuple_assignments::rewrite(merge.as_mut())?;
                pg_values::rewrite(merge)
            }
            _ => {}
        }
        pg_types::rewrite_length_casts(statement);
    }
    Ok(statements)
}

/// The values of `ALTER TABLE ... ALTER COLUMN c SET DEFAULT value` in `statement`: a default is
/// kept in the table as text (Spark SQL, which Spark writers read), so it stays as written
/// rather than in the forms the rewrites give a query (`'{}'::jsonb` became an internal
/// `pg_jsonb(...)`); the planner parses it as a query when it checks and uses it.
fn set_default_values(statement: &mut sqlparser::ast::Statement) -> Vec<&mut sqlparser::ast::Expr> {
    use sqlparser::ast::{AlterColumnOperation, AlterTableOperation};
    let sqlparser::ast::Statement::AlterTable(alter) = statement else {
        return Vec::new();
    };
    alter
        .operations
        .iter_mut()
        .filter_map(|operation| match operation {
            AlterTableOperation::AlterColumn {
                op: AlterColumnOperation::SetDefault { value },
                ..
            } => Some(value),
            _ => None,
        })
        .collect()
}

/// Parses text that must hold at most one statement (an extended-protocol Parse message).
pub fn parse_single(sql: &str) -> Result<Option<Statement>> {
    let mut statements = parse_sql(sql)?;
    match statements.len() {
        0 => Ok(None),
        1 => Ok(statements.pop()),
        _ => Err(Error::syntax(
            "cannot insert multiple commands into a prepared statement",
        )),
    }
}
