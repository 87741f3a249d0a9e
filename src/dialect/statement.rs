//! [`Statement`]: every statement deltagres executes, ours and sqlparser's, in one enum.

use std::fmt;

use sqlparser::ast::{ColumnDef, Expr, Ident, ObjectName, Query, TableConstraint};

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
    /// `DESCRIBE HISTORY t [LIMIT n]`: the table's commits, newest first.
    DescribeHistory {
        /// The table.
        table: ObjectName,
        /// At most this many commits.
        limit: Option<u64>,
    },
    /// `DESCRIBE DETAIL t`: one row of table facts (files, size, partitioning, protocol).
    DescribeDetail {
        /// The table.
        table: ObjectName,
    },
    /// `RESTORE [TABLE] t TO VERSION AS OF n | TIMESTAMP AS OF ts`.
    Restore {
        /// The table.
        table: ObjectName,
        /// The version to go back to.
        to: TimeTravel,
    },
    /// `VACUUM t [RETAIN n HOURS] [DRY RUN]`.
    Vacuum {
        /// The table.
        table: ObjectName,
        /// Keep files removed less than this many hours ago (default: the table's retention).
        retain_hours: Option<f64>,
        /// List the files instead of deleting them.
        dry_run: bool,
    },
    /// `INSERT INTO t REPLACE WHERE pred query`: atomically replace the rows matching `pred` by
    /// the query's rows (the idempotent reload of a partition).
    InsertReplaceWhere {
        /// The table.
        table: ObjectName,
        /// Rows matching it are replaced; every new row must match it.
        predicate: Expr,
        /// The new rows.
        query: Box<Query>,
    },
    /// ``CONVERT TO DELTA parquet.`path` [PARTITIONED BY (col type, ...)]``: writes a Delta log
    /// for an existing folder of parquet files, in place.
    ConvertToDelta {
        /// The folder.
        location: String,
        /// Hive-style partition columns of the folder layout, with their types.
        partitioned_by: Vec<ColumnDef>,
    },
    /// `ALTER VIEW [IF EXISTS] v RENAME TO w` (sqlparser's ALTER VIEW knows only `AS query`).
    AlterViewRename {
        /// The view.
        name: ObjectName,
        /// `IF EXISTS`: a missing view is a notice, not an error.
        if_exists: bool,
        /// The new name (a schema may be given; the view moves there).
        to: ObjectName,
    },
    /// `SHOW TABLES [IN | FROM s] [LIKE 'pattern']` (Spark's columns).
    ShowTables {
        /// The schema; the default schema when absent.
        schema: Option<Ident>,
        /// Spark's pattern (`*` wildcards, `|` alternatives).
        pattern: Option<String>,
    },
    /// `SHOW COLUMNS (IN | FROM) t [(IN | FROM) s]`.
    ShowColumns {
        /// The table or view.
        table: ObjectName,
    },
    /// `DESCRIBE [TABLE] [EXTENDED | FORMATTED] t`.
    DescribeTable {
        /// The table or view.
        table: ObjectName,
        /// `EXTENDED`: the table's facts after the columns.
        extended: bool,
    },
    /// `SHOW CREATE TABLE t`: the DDL that recreates it.
    ShowCreateTable {
        /// The table or view.
        table: ObjectName,
    },
    /// `ALTER TABLE t UNSET TBLPROPERTIES [IF EXISTS] ('k', ...)` (Spark's; sqlparser knows only
    /// SET TBLPROPERTIES).
    UnsetTblProperties {
        /// The table.
        table: ObjectName,
        /// The property keys to remove.
        keys: Vec<String>,
        /// `IF EXISTS`: a key the table does not have is skipped with a notice.
        if_exists: bool,
    },
    /// `MERGE [WITH SCHEMA EVOLUTION] INTO ...`; the wrapped statement is sqlparser's MERGE with
    /// `UPDATE SET *` / `INSERT *` marked as described in [`STAR_COLUMN`].
    Merge {
        /// The MERGE as sqlparser parsed it.
        merge: Box<sqlparser::ast::Statement>,
        /// `WITH SCHEMA EVOLUTION`: source columns missing in the target are added to it.
        schema_evolution: bool,
    },
}

impl Statement {
    /// The command's name as PostgreSQL's messages give it (`INSERT`, `CREATE TABLE`): the
    /// statement's first keyword, and the object kind after CREATE, DROP and ALTER.
    pub fn command_name(&self) -> String {
        let text = self.to_string();
        let mut words = text.split_whitespace().map(str::to_ascii_uppercase);
        let first = words.next().unwrap_or_default();
        match first.as_str() {
            "CREATE" | "DROP" | "ALTER" => match words.find(|w| {
                !matches!(
                    w.as_str(),
                    "OR" | "REPLACE" | "TEMPORARY" | "TEMP" | "EXTERNAL"
                )
            }) {
                Some(object) => format!("{first} {object}"),
                None => first,
            },
            _ => first,
        }
    }

    /// The tables a write statement commits to (for the log upkeep after the commit: checkpoints
    /// at the table's interval). Empty for reads and for catalog-only statements.
    pub fn written_tables(&self) -> Vec<ObjectName> {
        use sqlparser::ast::{Statement as S, TableFactor, TableObject};
        let factor = |t: &TableFactor| match t {
            TableFactor::Table { name, .. } => vec![name.clone()],
            _ => Vec::new(),
        };
        match self {
            Statement::CreateTable(create) => vec![create.name.clone()],
            Statement::Restore { table, .. }
            | Statement::InsertReplaceWhere { table, .. }
            | Statement::UnsetTblProperties { table, .. } => {
                vec![table.clone()]
            }
            Statement::Vacuum { table, dry_run, .. } if !dry_run => vec![table.clone()],
            Statement::Merge { merge, .. } => match merge.as_ref() {
                S::Merge(m) => factor(&m.table),
                _ => Vec::new(),
            },
            Statement::Sql(sql) => match sql.as_ref() {
                S::Insert(insert) => match &insert.table {
                    TableObject::TableName(name) => vec![name.clone()],
                    _ => Vec::new(),
                },
                S::Update(update) => factor(&update.table.relation),
                S::Delete(delete) => {
                    let (sqlparser::ast::FromTable::WithFromKeyword(tables)
                    | sqlparser::ast::FromTable::WithoutKeyword(tables)) = &delete.from;
                    tables.iter().flat_map(|t| factor(&t.relation)).collect()
                }
                S::Merge(m) => factor(&m.table),
                S::Truncate(t) => t.table_names.iter().map(|t| t.name.clone()).collect(),
                S::OptimizeTable { name, .. } => vec![name.clone()],
                // A comment is a metadata commit to the table (a column's: to its table).
                S::Comment {
                    object_type: sqlparser::ast::CommentObject::Table,
                    object_name,
                    ..
                } => vec![object_name.clone()],
                S::Comment {
                    object_type: sqlparser::ast::CommentObject::Column,
                    object_name,
                    ..
                } if object_name.0.len() > 1 => vec![sqlparser::ast::ObjectName(
                    object_name.0[..object_name.0.len() - 1].to_vec(),
                )],
                // A rename commits nothing to the table (and ALTER TABLE renames views too).
                S::AlterTable(alter)
                    if !matches!(
                        alter.operations.as_slice(),
                        [sqlparser::ast::AlterTableOperation::RenameTable { .. }]
                    ) =>
                {
                    vec![alter.name.clone()]
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// Whether running the statement commits something (a Delta version, a catalog change):
    /// decided from the statement, so writes that answer with rows (OPTIMIZE, RESTORE, VACUUM)
    /// count as much as those that answer with a command tag.
    pub fn is_write(&self) -> bool {
        use sqlparser::ast::Statement as S;
        match self {
            Statement::DescribeHistory { .. }
            | Statement::DescribeDetail { .. }
            | Statement::ShowTables { .. }
            | Statement::ShowColumns { .. }
            | Statement::DescribeTable { .. }
            | Statement::ShowCreateTable { .. } => false,
            Statement::Vacuum { dry_run, .. } => !dry_run,
            Statement::CreateTable(_)
            | Statement::Restore { .. }
            | Statement::InsertReplaceWhere { .. }
            | Statement::ConvertToDelta { .. }
            | Statement::AlterViewRename { .. }
            | Statement::UnsetTblProperties { .. }
            | Statement::Merge { .. } => true,
            Statement::Sql(sql) => matches!(
                sql.as_ref(),
                S::Insert(_)
                    | S::Update(_)
                    | S::Delete(_)
                    | S::Merge(_)
                    | S::Truncate(_)
                    | S::Copy { to: false, .. }
                    | S::OptimizeTable { .. }
                    | S::CreateSchema { .. }
                    | S::CreateTable(_)
                    | S::CreateView(_)
                    | S::Drop { .. }
                    | S::AlterTable(_)
                    | S::Comment { .. }
            ),
        }
    }
}

/// Which version a time-travel clause selects.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeTravel {
    /// `VERSION AS OF n`.
    Version(Expr),
    /// `TIMESTAMP AS OF ts`: the last version committed at or before `ts`.
    Timestamp(Expr),
}

impl TimeTravel {
    /// sqlparser's version clause as ours; the clause's text when it is neither VERSION AS OF
    /// nor TIMESTAMP AS OF (each caller words that refusal).
    pub fn from_table_version(
        version: sqlparser::ast::TableVersion,
    ) -> std::result::Result<Self, String> {
        use sqlparser::ast::TableVersion;
        match version {
            TableVersion::VersionAsOf(e) => Ok(TimeTravel::Version(e)),
            TableVersion::TimestampAsOf(e) | TableVersion::ForSystemTimeAsOf(e) => {
                Ok(TimeTravel::Timestamp(e))
            }
            other => Err(other.to_string()),
        }
    }
}

impl fmt::Display for TimeTravel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeTravel::Version(v) => write!(f, "VERSION AS OF {v}"),
            TimeTravel::Timestamp(t) => write!(f, "TIMESTAMP AS OF {t}"),
        }
    }
}

/// `UPDATE SET *` arrives as the assignment `"__deltagres_star" = "__deltagres_star"` and
/// `INSERT *` as `INSERT ("__deltagres_star") VALUES ("__deltagres_star")`, since sqlparser has no
/// syntax for either.
pub const STAR_COLUMN: &str = "__deltagres_star";

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
    /// Made from `(LIKE source)`: `query` is the source's empty query, and the command tag is
    /// `CREATE TABLE` (not CTAS's `SELECT n`), as PostgreSQL's.
    pub from_like: bool,
    /// `[SHALLOW | DEEP] CLONE source [VERSION AS OF n]`: a copy of another table's version.
    pub clone: Option<CloneOf>,
}

/// The source of `CREATE TABLE t SHALLOW | DEEP CLONE source [VERSION AS OF n]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CloneOf {
    /// The table cloned.
    pub source: ObjectName,
    /// Its version to clone (the latest when None).
    pub version: Option<TimeTravel>,
    /// SHALLOW (the log only) rather than DEEP (the log and the files; the default).
    pub shallow: bool,
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Sql(s) => write!(f, "{s}"),
            Statement::CreateTable(c) => write!(f, "{c}"),
            Statement::DescribeHistory { table, limit } => {
                write!(f, "DESCRIBE HISTORY {table}")?;
                if let Some(n) = limit {
                    write!(f, " LIMIT {n}")?;
                }
                Ok(())
            }
            Statement::DescribeDetail { table } => write!(f, "DESCRIBE DETAIL {table}"),
            Statement::AlterViewRename {
                name,
                if_exists,
                to,
            } => {
                let if_exists = if *if_exists { "IF EXISTS " } else { "" };
                write!(f, "ALTER VIEW {if_exists}{name} RENAME TO {to}")
            }
            Statement::ShowTables { schema, pattern } => {
                write!(f, "SHOW TABLES")?;
                if let Some(schema) = schema {
                    write!(f, " IN {schema}")?;
                }
                if let Some(pattern) = pattern {
                    write!(f, " LIKE '{}'", pattern.replace('\'', "''"))?;
                }
                Ok(())
            }
            Statement::ShowColumns { table } => write!(f, "SHOW COLUMNS IN {table}"),
            Statement::DescribeTable { table, extended } => {
                let extended = if *extended { "EXTENDED " } else { "" };
                write!(f, "DESCRIBE TABLE {extended}{table}")
            }
            Statement::ShowCreateTable { table } => write!(f, "SHOW CREATE TABLE {table}"),
            Statement::UnsetTblProperties {
                table,
                keys,
                if_exists,
            } => {
                let if_exists = if *if_exists { "IF EXISTS " } else { "" };
                let keys: Vec<String> = keys
                    .iter()
                    .map(|k| format!("'{}'", k.replace('\'', "''")))
                    .collect();
                write!(
                    f,
                    "ALTER TABLE {table} UNSET TBLPROPERTIES {if_exists}({})",
                    keys.join(", ")
                )
            }
            Statement::ConvertToDelta {
                location,
                partitioned_by,
            } => {
                write!(f, "CONVERT TO DELTA parquet.`{location}`")?;
                if !partitioned_by.is_empty() {
                    let cols: Vec<String> = partitioned_by.iter().map(|c| c.to_string()).collect();
                    write!(f, " PARTITIONED BY ({})", cols.join(", "))?;
                }
                Ok(())
            }
            Statement::Restore { table, to } => write!(f, "RESTORE TABLE {table} TO {to}"),
            Statement::Vacuum {
                table,
                retain_hours,
                dry_run,
            } => {
                write!(f, "VACUUM {table}")?;
                if let Some(h) = retain_hours {
                    write!(f, " RETAIN {h} HOURS")?;
                }
                if *dry_run {
                    write!(f, " DRY RUN")?;
                }
                Ok(())
            }
            Statement::InsertReplaceWhere {
                table,
                predicate,
                query,
            } => write!(f, "INSERT INTO {table} REPLACE WHERE {predicate} {query}"),
            Statement::Merge {
                merge,
                schema_evolution,
            } => {
                let text = merge.to_string();
                match (schema_evolution, text.strip_prefix("MERGE ")) {
                    (true, Some(rest)) => write!(f, "MERGE WITH SCHEMA EVOLUTION {rest}"),
                    _ => write!(f, "{text}"),
                }
            }
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
        if let Some(clone) = &self.clone {
            let kind = if clone.shallow { "SHALLOW" } else { "DEEP" };
            write!(f, " {kind} CLONE {}", clone.source)?;
            if let Some(version) = &clone.version {
                write!(f, " {version}")?;
            }
        }
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
