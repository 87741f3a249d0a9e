//! [`Statement`]: every statement deltagres executes, ours and sqlparser's, in one enum.

use std::fmt;

use sqlparser::ast::{ColumnDef, Ident, ObjectName, Query, TableConstraint};

/// One parsed statement.
///
/// Lakehouse statements get variants of their own rather than being squeezed into a sqlparser
/// statement kind that merely looks similar, so the router can match on what the user wrote.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    /// A statement sqlparser parses natively (SELECT, INSERT, UPDATE, DELETE, SET, ...).
    Sql(Box<sqlparser::ast::Statement>),
    /// `CREATE [OR REPLACE] TABLE` in the Spark/Databricks form (columns, USING, PARTITIONED BY,
    /// LOCATION, TBLPROPERTIES, AS SELECT).
    CreateTable(Box<CreateTable>),
}

/// `CREATE [OR REPLACE] TABLE [IF NOT EXISTS] name [(columns)] [USING fmt] [PARTITIONED BY (cols)]
/// [LOCATION 'path'] [TBLPROPERTIES (k = v, ...)] [COMMENT 'text'] [AS query]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTable {
    /// The table name as written (one to three parts).
    pub name: ObjectName,
    /// `OR REPLACE`: replace an existing table's contents and schema in a new version.
    pub or_replace: bool,
    /// `IF NOT EXISTS`: no error when the table exists.
    pub if_not_exists: bool,
    /// The column list; empty for CTAS and for attaching an existing table with LOCATION.
    pub columns: Vec<ColumnDef>,
    /// Table constraints (`PRIMARY KEY (...)`), accepted for compatibility.
    pub constraints: Vec<TableConstraint>,
    /// `USING fmt`; only `DELTA` is accepted.
    pub using: Option<Ident>,
    /// `PARTITIONED BY (c1, c2)`.
    pub partitioned_by: Vec<Ident>,
    /// `LOCATION 'path'`: an external table at that path.
    pub location: Option<String>,
    /// `TBLPROPERTIES ('k' = 'v')`, stored as Delta table configuration.
    pub properties: Vec<(String, String)>,
    /// `COMMENT 'text'`, stored as the Delta table description.
    pub comment: Option<String>,
    /// `AS query` for CREATE TABLE AS SELECT.
    pub query: Option<Box<Query>>,
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Sql(s) => write!(f, "{s}"),
            Statement::CreateTable(c) => write!(f, "{c}"),
        }
    }
}

impl fmt::Display for CreateTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CREATE ")?;
        if self.or_replace {
            write!(f, "OR REPLACE ")?;
        }
        write!(f, "TABLE ")?;
        if self.if_not_exists {
            write!(f, "IF NOT EXISTS ")?;
        }
        write!(f, "{}", self.name)?;
        if !self.columns.is_empty() {
            let cols: Vec<String> = self.columns.iter().map(|c| c.to_string()).collect();
            write!(f, " ({})", cols.join(", "))?;
        }
        if let Some(using) = &self.using {
            write!(f, " USING {using}")?;
        }
        if !self.partitioned_by.is_empty() {
            let cols: Vec<String> = self.partitioned_by.iter().map(|c| c.to_string()).collect();
            write!(f, " PARTITIONED BY ({})", cols.join(", "))?;
        }
        if let Some(location) = &self.location {
            write!(f, " LOCATION '{}'", location.replace('\'', "''"))?;
        }
        if !self.properties.is_empty() {
            let props: Vec<String> = self
                .properties
                .iter()
                .map(|(k, v)| format!("'{}' = '{}'", k.replace('\'', "''"), v.replace('\'', "''")))
                .collect();
            write!(f, " TBLPROPERTIES ({})", props.join(", "))?;
        }
        if let Some(comment) = &self.comment {
            write!(f, " COMMENT '{}'", comment.replace('\'', "''"))?;
        }
        if let Some(q) = &self.query {
            write!(f, " AS {q}")?;
        }
        Ok(())
    }
}
