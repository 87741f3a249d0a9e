//! `table_changes('t', start [, end])`: the rows a Delta table's change data feed recorded
//! between two versions or times, as Databricks answers it.
//!
//! The table function needs the table loaded (an async read) and its arguments folded, which a
//! DataFusion table function cannot do, so, like time travel, every call is resolved before
//! planning: the feed is read through delta-rs's own CDF provider, registered under a private
//! name in the statement's own catalog, and the call is replaced by a subquery over it that
//! gives the columns the types a PostgreSQL client expects (`_commit_version` bigint,
//! `_commit_timestamp` timestamptz).

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use deltalake::delta_datafusion::DeltaCdfTableProvider;
use deltalake::table::config::TablePropertiesExt as _;
use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Ident, ObjectName, TableAlias, TableFactor, Value, Visit,
    VisitMut, Visitor, VisitorMut,
};

use super::{PlanContext, resolve_table};
use crate::catalog::TableRef;
use crate::error::{Error, ErrorKind, Result};

/// The name the function is called by (unqualified, any case).
const FUNCTION: &str = "table_changes";

/// Where one end of the range is.
enum Bound {
    Version(i64),
    Time(chrono::DateTime<chrono::Utc>),
}

/// Whether `node` calls `table_changes` in a FROM clause.
pub fn has_calls<N: Visit>(node: &N) -> bool {
    !calls(node).is_empty()
}

/// Registers the feed of every `table_changes` call in `node` in `schema` (reached as
/// `catalog.schema_name`) and replaces each call by a subquery over it.
pub async fn resolve<N: Visit + VisitMut>(
    cx: &PlanContext<'_>,
    node: &mut N,
    schema: &Arc<MemorySchemaProvider>,
    catalog: &str,
    schema_name: &str,
) -> Result<()> {
    let mut replacements = Vec::new();
    for (index, args) in calls(node).into_iter().enumerate() {
        let private = format!("table_changes__{index}");
        let columns = register(cx, &args, schema, &private).await?;
        let from = format!(
            "{}.{}.{}",
            Ident::with_quote('"', catalog),
            Ident::with_quote('"', schema_name),
            Ident::with_quote('"', &private)
        );
        replacements.push(subquery(&columns, &from)?);
    }
    replace(node, replacements);
    Ok(())
}

/// The argument lists of the calls, in the order [`replace`] meets them.
fn calls<N: Visit>(node: &N) -> Vec<Vec<FunctionArg>> {
    struct Calls(Vec<Vec<FunctionArg>>);
    impl Visitor for Calls {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let Some(args) = call_args(factor) {
                self.0.push(args.to_vec());
            }
            ControlFlow::Continue(())
        }
    }
    let mut c = Calls(Vec::new());
    let _ = node.visit(&mut c);
    c.0
}

fn call_args(factor: &TableFactor) -> Option<&[FunctionArg]> {
    let TableFactor::Table {
        name,
        args: Some(args),
        ..
    } = factor
    else {
        return None;
    };
    let is_call = name.0.len() == 1
        && name.0[0]
            .as_ident()
            .is_some_and(|i| i.value.eq_ignore_ascii_case(FUNCTION));
    is_call.then_some(args.args.as_slice())
}

fn replace<N: VisitMut>(node: &mut N, replacements: Vec<sqlparser::ast::Query>) {
    struct Replace(std::vec::IntoIter<sqlparser::ast::Query>);
    impl VisitorMut for Replace {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if call_args(factor).is_none() {
                return ControlFlow::Continue(());
            }
            let Some(query) = self.0.next() else {
                return ControlFlow::Break(());
            };
            let TableFactor::Table { alias, .. } = factor else {
                return ControlFlow::Continue(());
            };
            let alias = alias.take().unwrap_or_else(|| TableAlias {
                explicit: true,
                name: Ident::new(FUNCTION),
                columns: Vec::new(),
                at: None,
            });
            *factor = TableFactor::Derived {
                lateral: false,
                subquery: Box::new(query),
                alias: Some(alias),
                sample: None,
            };
            ControlFlow::Continue(())
        }
    }
    let _ = node.visit(&mut Replace(replacements.into_iter()));
}

/// Loads the named table's feed for the range and registers it as `private`; returns the
/// table's own columns.
async fn register(
    cx: &PlanContext<'_>,
    args: &[FunctionArg],
    schema: &Arc<MemorySchemaProvider>,
    private: &str,
) -> Result<Vec<String>> {
    let exprs = args
        .iter()
        .map(|a| match a {
            FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Ok(e),
            _ => Err(usage()),
        })
        .collect::<Result<Vec<_>>>()?;
    let (name, start, end) = match exprs.as_slice() {
        [name, start] => (*name, *start, None),
        [name, start, end] => (*name, *start, Some(*end)),
        _ => return Err(usage()),
    };
    let table_ref = table_name(cx, name)?;
    let table = cx.catalog.load(&table_ref).await?;
    let latest = table.version().unwrap_or_default() as i64;
    let snapshot = table.snapshot()?;
    if !snapshot.table_config().enable_change_data_feed() {
        return Err(Error::new(
            ErrorKind::ObjectNotInPrerequisiteState,
            format!("table {table_ref} does not record its changes"),
        )
        .with_hint(format!(
            "ALTER TABLE {table_ref} SET TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true') records the changes of later commits"
        )));
    }
    let columns: Vec<String> = snapshot
        .schema()
        .fields()
        .map(|f| f.name().to_string())
        .collect();
    let mut builder = table.clone().scan_cdf();
    let start_version = match bound(cx, start).await? {
        Bound::Version(v) => {
            if v < 0 || v > latest {
                return Err(super::timetravel::no_such_version(
                    &table_ref,
                    &v.to_string(),
                    latest as u64,
                ));
            }
            builder = builder.with_starting_version(v as _);
            Some(v)
        }
        Bound::Time(t) => {
            builder = builder.with_starting_timestamp(t);
            None
        }
    };
    if let Some(end) = end {
        match bound(cx, end).await? {
            Bound::Version(v) => {
                if start_version.is_some_and(|s| v < s) {
                    return Err(Error::new(
                        ErrorKind::InvalidParameterValue,
                        format!(
                            "table_changes: the end version {v} is before the start version {}",
                            start_version.unwrap_or_default()
                        ),
                    ));
                }
                if v > latest {
                    return Err(super::timetravel::no_such_version(
                        &table_ref,
                        &v.to_string(),
                        latest as u64,
                    ));
                }
                builder = builder.with_ending_version(v as _);
            }
            Bound::Time(t) => builder = builder.with_ending_timestamp(t),
        }
    }
    let provider = DeltaCdfTableProvider::try_new(builder).map_err(|e| cdf_error(&table_ref, e))?;
    schema.register_table(private.to_string(), Arc::new(provider))?;
    Ok(columns)
}

/// The subquery standing for one call: the table's columns, then the three change columns in
/// the types PostgreSQL clients read (delta-rs gives an unsigned version and a zoneless time
/// that holds UTC).
fn subquery(columns: &[String], from: &str) -> Result<sqlparser::ast::Query> {
    let mut items: Vec<String> = columns
        .iter()
        .map(|c| Ident::with_quote('"', c).to_string())
        .collect();
    items.push("\"_change_type\"".into());
    items.push("CAST(\"_commit_version\" AS BIGINT) AS \"_commit_version\"".into());
    items.push(
        "arrow_cast(\"_commit_timestamp\", 'Timestamp(Microsecond, Some(\"UTC\"))') AS \"_commit_timestamp\""
            .into(),
    );
    let sql = format!("SELECT {} FROM {from}", items.join(", "));
    let mut parsed = crate::dialect::parse_sql(&sql)?;
    match parsed.pop() {
        Some(crate::dialect::Statement::Sql(statement)) => match *statement {
            sqlparser::ast::Statement::Query(query) => Ok(*query),
            _ => Err(Error::internal(
                "table_changes: the subquery is not a query",
            )),
        },
        _ => Err(Error::internal("table_changes: the subquery did not parse")),
    }
}

/// The table a call names: a string (`'t'`, `'s.t'`) as Databricks takes it, or a bare name.
fn table_name(cx: &PlanContext<'_>, expr: &Expr) -> Result<TableRef> {
    let name = match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) => object_name(s)?,
            _ => return Err(usage()),
        },
        Expr::Identifier(ident) => ObjectName::from(vec![ident.clone()]),
        Expr::CompoundIdentifier(parts) => ObjectName::from(parts.clone()),
        _ => return Err(usage()),
    };
    let table_ref = resolve_table(&name, cx.default_schema)?;
    if !cx.catalog.table_exists(&table_ref) {
        return Err(Error::undefined_table(&table_ref));
    }
    Ok(table_ref)
}

/// `'t'`, `'s.t'` or `'"My T"'` as a name.
fn object_name(text: &str) -> Result<ObjectName> {
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    sqlparser::parser::Parser::new(&dialect)
        .try_with_sql(text)
        .and_then(|mut p| p.parse_object_name(false))
        .map_err(|_| {
            Error::new(
                ErrorKind::InvalidParameterValue,
                format!("table_changes: '{text}' is not a table name"),
            )
        })
}

/// A range end: an integer is a version, anything else a time (read in the session zone).
async fn bound(cx: &PlanContext<'_>, expr: &Expr) -> Result<Bound> {
    let is_number = match expr {
        Expr::Value(v) => matches!(v.value, Value::Number(..)),
        Expr::UnaryOp { expr, .. } => {
            matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..)))
        }
        _ => false,
    };
    if is_number {
        Ok(Bound::Version(
            super::timetravel::evaluate_version(cx, expr).await?,
        ))
    } else {
        Ok(Bound::Time(
            super::timetravel::evaluate_timestamp(cx, expr).await?,
        ))
    }
}

fn cdf_error(table: &TableRef, e: deltalake::DeltaTableError) -> Error {
    Error::new(
        ErrorKind::ObjectNotInPrerequisiteState,
        format!("the change data feed of table {table} cannot be read: {e}"),
    )
}

fn usage() -> Error {
    Error::new(
        ErrorKind::InvalidParameterValue,
        "table_changes takes a table name, a start version or timestamp and an optional end: \
         table_changes('t', 1 [, 5])",
    )
}
