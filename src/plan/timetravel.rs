//! Time travel: `FROM t VERSION AS OF n` and `FROM t TIMESTAMP AS OF ts`, anywhere a table appears.
//!
//! DataFusion's planner drops the version clause, so a versioned query would silently read the
//! latest data. Before planning, every versioned reference is therefore loaded at its version,
//! registered under a private name in a catalog that exists only for this one statement, and the
//! reference is renamed to it (keeping the original name as its alias). After [`resolve`] no
//! version clause is left for DataFusion to drop. The same statement catalog holds the change
//! feeds `table_changes(...)` reads (see [`super::table_changes`]).

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use datafusion::arrow::array::{Array, Int64Array, TimestampMicrosecondArray};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use sqlparser::ast::{
    Expr, Ident, ObjectName, TableAlias, TableFactor, TableVersion, Visit, VisitMut, Visitor,
    VisitorMut,
};

use super::{PlanContext, resolve_table};
use crate::catalog::TableRef;
use crate::dialect::TimeTravel;
use crate::error::{Error, ErrorKind, Result};

/// The per-statement catalog holding versioned tables.
const VERSIONS_CATALOG: &str = "__deltagres_versions";
const VERSIONS_SCHEMA: &str = "v";

/// Rewrites versioned table references in `node` (a statement or query); returns the
/// statement-private context to plan it with, or None when nothing is versioned.
pub async fn resolve<N: Visit + VisitMut>(
    cx: &PlanContext<'_>,
    node: &mut N,
) -> Result<Option<SessionContext>> {
    super::paths::rewrite_path_tables(node);
    let references = collect(node);
    let changes = super::table_changes::has_calls(node);
    if references.is_empty() && !changes {
        return Ok(None);
    }
    let schema = Arc::new(MemorySchemaProvider::new());
    let mut renames: HashMap<(ObjectName, String), String> = HashMap::new();
    for (name, version) in references {
        let key = (name.clone(), version.to_string());
        if renames.contains_key(&key) {
            continue;
        }
        let table_ref = resolve_table(&name, cx.default_schema)?;
        let travel = TimeTravel::from_table_version(version).map_err(|other| {
            Error::unsupported(format!(
                "{other} is not supported; use VERSION AS OF or TIMESTAMP AS OF"
            ))
        })?;
        let table = load_at(cx, &table_ref, &travel).await?;
        let version = table.version().unwrap_or_default();
        let private = format!("{}__{}__v{}", table_ref.schema, table_ref.table, version);
        schema.register_table(private.clone(), crate::delta::read_provider(&table).await?)?;
        renames.insert(key, private);
    }
    rename(node, &renames);
    if changes {
        super::table_changes::resolve(cx, node, &schema, VERSIONS_CATALOG, VERSIONS_SCHEMA).await?;
    }
    Ok(Some(super::planned::private_context(
        cx.df.state(),
        VERSIONS_CATALOG,
        VERSIONS_SCHEMA,
        schema,
    )?))
}

/// Loads the table as of a version or timestamp, with errors that name what exists.
pub async fn load_at(
    cx: &PlanContext<'_>,
    table_ref: &TableRef,
    travel: &TimeTravel,
) -> Result<DeltaTable> {
    let latest = cx.catalog.load(table_ref).await?;
    let latest_version = latest.version().unwrap_or_default();
    let builder = cx
        .catalog
        .storage_options()
        .table_builder(latest.table_url())?;
    match travel {
        TimeTravel::Version(expr) => {
            let version = evaluate_version(cx, expr).await?;
            if version < 0 || version as u64 > latest_version as u64 {
                return Err(no_such_version(
                    table_ref,
                    &version.to_string(),
                    latest_version as u64,
                ));
            }
            builder
                .with_version(version as _)
                .load()
                .await
                .map_err(|e| {
                    // In range but not loadable: its log entries expired and were removed.
                    Error::new(
                        ErrorKind::InvalidParameterValue,
                        format!(
                            "version {version} of table {table_ref} can no longer be read: its log \
                             was removed after delta.logRetentionDuration (default 30 days)"
                        ),
                    )
                    .with_detail(e.to_string())
                    .with_hint(
                        "DESCRIBE HISTORY lists the versions; raise delta.logRetentionDuration to keep more",
                    )
                })
        }
        TimeTravel::Timestamp(expr) => {
            let at = evaluate_timestamp(cx, expr).await?;
            let none_before = |detail: String| {
                Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("table {table_ref} has no version committed at or before {at}"),
                )
                .with_detail(detail)
                .with_hint("DESCRIBE HISTORY shows each version's commit time")
            };
            let table = builder
                .with_timestamp(at)
                .load()
                .await
                .map_err(|e| none_before(e.to_string()))?;
            // delta-rs falls back to the first version for times before it; we do not.
            let version = table.version().unwrap_or_default();
            let committed = table.snapshot()?.version_timestamp(version);
            match committed {
                Some(ms) if ms > at.timestamp_millis() => Err(none_before(format!(
                    "the oldest readable version, {version}, was committed at {}",
                    Utc.timestamp_millis_opt(ms)
                        .single()
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_default()
                ))),
                _ => Ok(table),
            }
        }
    }
}

pub(super) fn no_such_version(table: &TableRef, asked: &str, latest: u64) -> Error {
    Error::new(
        ErrorKind::InvalidParameterValue,
        format!("table {table} has no version {asked}: its versions are 0 to {latest}"),
    )
    .with_hint("DESCRIBE HISTORY lists the versions; versions removed by VACUUM or log cleanup cannot be read")
}

/// `VERSION AS OF` takes any expression that folds to an integer.
pub async fn evaluate_version(cx: &PlanContext<'_>, expr: &Expr) -> Result<i64> {
    let batches = cx
        .df
        .sql(&format!("SELECT CAST(({expr}) AS BIGINT)"))
        .await?
        .collect()
        .await?;
    batches
        .first()
        .and_then(|b| b.column(0).as_any().downcast_ref::<Int64Array>().cloned())
        .filter(|a| a.len() == 1 && !a.is_null(0))
        .map(|a| a.value(0))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidParameterValue,
                format!("VERSION AS OF {expr} is not an integer"),
            )
        })
}

/// `TIMESTAMP AS OF` takes any expression that folds to a timestamp (read in the session zone).
pub async fn evaluate_timestamp(cx: &PlanContext<'_>, expr: &Expr) -> Result<DateTime<Utc>> {
    let sql = format!(
        "SELECT CAST(CAST(({expr}) AS TIMESTAMP WITH TIME ZONE) AS TIMESTAMP(6) WITH TIME ZONE)"
    );
    let batches = cx.df.sql(&sql).await?.collect().await?;
    let micros = batches
        .first()
        .and_then(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<TimestampMicrosecondArray>()
                .cloned()
        })
        .filter(|a| a.len() == 1 && !a.is_null(0))
        .map(|a| a.value(0))
        .ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidParameterValue,
                format!("TIMESTAMP AS OF {expr} is not a timestamp"),
            )
        })?;
    Utc.timestamp_micros(micros).single().ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidParameterValue,
            format!("TIMESTAMP AS OF {expr} is out of range"),
        )
    })
}

/// Whether `node` still holds a `VERSION AS OF` / `TIMESTAMP AS OF` reference (which
/// DataFusion's planner would silently drop).
pub fn has_versions<N: Visit>(node: &N) -> bool {
    !collect(node).is_empty()
}

fn collect<N: Visit>(node: &N) -> Vec<(ObjectName, TableVersion)> {
    struct Collect(Vec<(ObjectName, TableVersion)>);
    impl Visitor for Collect {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                name,
                version: Some(v),
                ..
            } = factor
            {
                self.0.push((name.clone(), v.clone()));
            }
            ControlFlow::Continue(())
        }
    }
    let mut c = Collect(Vec::new());
    let _ = node.visit(&mut c);
    c.0
}

fn rename<N: VisitMut>(node: &mut N, renames: &HashMap<(ObjectName, String), String>) {
    struct Rename<'a>(&'a HashMap<(ObjectName, String), String>);
    impl VisitorMut for Rename<'_> {
        type Break = ();
        fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::Table {
                name,
                version,
                alias,
                ..
            } = factor
                && let Some(v) = version.as_ref()
                && let Some(private) = self.0.get(&(name.clone(), v.to_string()))
            {
                if alias.is_none() {
                    let original = name.0.last().and_then(|p| p.as_ident()).cloned();
                    *alias = original.map(|ident| TableAlias {
                        explicit: true,
                        name: ident,
                        columns: Vec::new(),
                        at: None,
                    });
                }
                *name = ObjectName::from(vec![
                    Ident::with_quote('"', VERSIONS_CATALOG),
                    Ident::with_quote('"', VERSIONS_SCHEMA),
                    Ident::with_quote('"', private.clone()),
                ]);
                *version = None;
            }
            ControlFlow::Continue(())
        }
    }
    let _ = node.visit(&mut Rename(renames));
}
