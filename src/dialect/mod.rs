//! The SQL dialect of deltagres: PostgreSQL syntax plus the Databricks/Spark lakehouse statements.
//!
//! Parsing happens here and only here. [`parse_sql`] turns text into our own [`Statement`] enum: the
//! statements sqlparser already understands are wrapped as they are, and the lakehouse forms that it
//! does not (Spark's `CREATE TABLE ... USING DELTA PARTITIONED BY ... LOCATION ...`) get variants of
//! their own, so later layers never have to guess what a statement really is.

mod compat;
mod lakehouse;
mod parser;
mod statement;

pub use lakehouse::LakehouseDialect;
pub use parser::{parse_single, parse_sql};
pub use statement::{CreateTable, STAR_COLUMN, Statement, TimeTravel};
