//! `COPY t [(cols)] FROM STDIN` and `COPY t | (query) TO STDOUT` in PostgreSQL's text and CSV
//! formats (what psql's `\copy` sends).
//!
//! COPY FROM streams: the data is decoded and written as it arrives and committed once at
//! CopyDone (`load`), so a bad row fails the COPY with its line number and the table is
//! unchanged. COPY TO writes values as PostgreSQL does (`unload`). The wire layer only moves the
//! bytes.

mod binary;
mod csv;
mod load;
mod text;
mod unload;

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use sqlparser::ast::{
    self, CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget,
};

use super::names::normalize_ident;
use super::{PlanContext, resolve_table};
use crate::catalog::TableRef;
use crate::error::{Error, ErrorKind, Result};
use crate::output::QueryOutput;

/// How the COPY data is laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyFormat {
    /// PostgreSQL's binary format (`FORMAT binary`); the other fields do not apply.
    pub binary: bool,
    /// CSV (true) or PostgreSQL text format (false).
    pub csv: bool,
    /// Field separator.
    pub delimiter: u8,
    /// The text standing for NULL.
    pub null: String,
    /// The first line holds column names.
    pub header: bool,
    /// CSV quote character.
    pub quote: u8,
}

impl Default for CopyFormat {
    fn default() -> Self {
        Self {
            binary: false,
            csv: false,
            delimiter: b'\t',
            null: "\\N".into(),
            header: false,
            quote: b'"',
        }
    }
}

pub use load::CopyLoad;

/// A COPY FROM STDIN waiting for its data.
#[derive(Debug, Clone)]
pub struct CopyIn {
    /// The target table.
    pub table: TableRef,
    /// The columns the data holds, in order (all columns when the statement names none).
    pub columns: Vec<String>,
    /// The layout.
    pub format: CopyFormat,
    /// The running load, for the connection to feed (taken once).
    load: Arc<std::sync::Mutex<Option<CopyLoad>>>,
}

impl CopyIn {
    /// The load the data goes to; None once taken.
    pub fn take_load(&self) -> Option<CopyLoad> {
        self.load
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// A COPY TO STDOUT: one chunk of formatted rows per record batch.
pub struct CopyOut {
    /// Number of columns.
    pub columns: usize,
    /// The data is in the binary format (the wire's CopyOutResponse says so).
    pub binary: bool,
    /// The formatted data.
    pub data: BoxStream<'static, Result<Vec<u8>>>,
}

/// Starts a COPY: FROM STDIN returns what the data must look like; TO STDOUT returns the data.
pub async fn copy(cx: &mut PlanContext<'_>, statement: ast::Statement) -> Result<QueryOutput> {
    let ast::Statement::Copy {
        source,
        to,
        target,
        options,
        legacy_options,
        ..
    } = statement
    else {
        return Err(Error::internal("not a COPY statement"));
    };
    let format = copy_format(&options, &legacy_options)?;
    match (to, target) {
        (false, CopyTarget::Stdin) => {
            let CopySource::Table {
                table_name,
                columns,
            } = source
            else {
                return Err(Error::syntax("COPY FROM needs a table"));
            };
            let table = resolve_table(&table_name, cx.default_schema)?;
            let target = cx.catalog.load(&table).await?;
            // Generated columns take no data (PostgreSQL leaves them out of a COPY without a
            // column list); delta-rs computes them from each row.
            let generated: Vec<String> = crate::delta::generated_columns(&target)?
                .into_iter()
                .map(|(name, _)| name)
                .collect();
            let full = crate::delta::table_arrow_schema(&target)?;
            let schema = Arc::new(datafusion::arrow::datatypes::Schema::new(
                full.fields()
                    .iter()
                    .filter(|f| !generated.contains(f.name()))
                    .cloned()
                    .collect::<Vec<_>>(),
            ));
            let all: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
            let columns: Vec<String> = if columns.is_empty() {
                all.clone()
            } else {
                let named: Vec<String> = columns.iter().map(normalize_ident).collect();
                if let Some(column) = named.iter().find(|c| generated.contains(c)) {
                    return Err(Error::new(
                        ErrorKind::GeneratedAlways,
                        format!("column \"{column}\" is a generated column"),
                    )
                    .with_detail("Generated columns cannot be used in COPY."));
                }
                if let Some(missing) = named.iter().find(|c| !all.contains(c)) {
                    return Err(Error::new(
                        ErrorKind::UndefinedColumn,
                        format!(
                            "column \"{missing}\" of relation \"{}\" does not exist",
                            table.table
                        ),
                    ));
                }
                named
            };
            let timeout_ms = cx.settings.statement_timeout_ms();
            let deadline = (timeout_ms > 0).then(|| {
                tokio::time::Instant::now() + std::time::Duration::from_millis(timeout_ms)
            });
            let mut copy = CopyIn {
                table,
                columns,
                format,
                load: Default::default(),
            };
            // Columns left out of the list take their DEFAULT expression.
            let left_out: Vec<String> = all
                .into_iter()
                .filter(|c| !copy.columns.contains(c))
                .collect();
            let defaults = super::column_defaults::planned(cx, &target, &left_out).await?;
            let state = Arc::new(cx.df.state());
            let load = CopyLoad::start(&copy, target, schema, defaults, state, deadline)?;
            copy.load = Arc::new(std::sync::Mutex::new(Some(load)));
            Ok(QueryOutput::CopyIn(copy))
        }
        (true, CopyTarget::Stdout) => {
            // The query goes on as parsed: a table factor's text form puts its alias before
            // `VERSION AS OF`, which does not parse back.
            let mut statement = match source {
                CopySource::Table {
                    table_name,
                    columns,
                } => {
                    let list = if columns.is_empty() {
                        "*".to_string()
                    } else {
                        columns
                            .iter()
                            .map(|c| c.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    let parsed =
                        crate::dialect::parse_single(&format!("SELECT {list} FROM {table_name}"))?;
                    match parsed {
                        Some(crate::dialect::Statement::Sql(statement)) => statement,
                        _ => return Err(Error::syntax("COPY needs a table")),
                    }
                }
                CopySource::Query(q) => Box::new(ast::Statement::Query(q)),
            };
            let versioned = super::timetravel::resolve(cx, statement.as_mut()).await?;
            let ctx = versioned.as_ref().unwrap_or(cx.df);
            let plan = super::planned::logical_plan(&ctx.state(), *statement).await?;
            let stream = ctx
                .execute_logical_plan(plan)
                .await?
                .execute_stream()
                .await?;
            let columns = stream.schema().fields().len();
            if format.binary {
                let fields = binary::fields(&stream.schema())?;
                let rows = stream.map(move |batch| binary::format_batch(&batch?, &fields));
                let data = futures::stream::once(async { Ok(binary::header()) })
                    .chain(rows)
                    .boxed();
                return Ok(QueryOutput::CopyOut(CopyOut {
                    columns,
                    binary: true,
                    data,
                }));
            }
            let mut first = true;
            let data = stream
                .map(move |batch| {
                    let batch = batch?;
                    let header = std::mem::take(&mut first) && format.header;
                    unload::format_batch(&batch, &format, header)
                })
                .boxed();
            Ok(QueryOutput::CopyOut(CopyOut {
                columns,
                binary: false,
                data,
            }))
        }
        (_, CopyTarget::File { .. } | CopyTarget::Program { .. }) => Err(Error::new(
            ErrorKind::InsufficientPrivilege,
            "COPY to or from a server file or program is not allowed; use STDIN/STDOUT (psql \\copy)",
        )),
        _ => Err(Error::syntax(
            "COPY FROM needs STDIN and COPY TO needs STDOUT",
        )),
    }
}

fn copy_format(options: &[CopyOption], legacy: &[CopyLegacyOption]) -> Result<CopyFormat> {
    let mut format = CopyFormat::default();
    let set_csv = |format: &mut CopyFormat| {
        format.csv = true;
        format.delimiter = b',';
        format.null = String::new();
    };
    for option in options {
        if let CopyOption::Format(f) = option {
            match f.value.to_ascii_lowercase().as_str() {
                "csv" => set_csv(&mut format),
                "text" => {}
                "binary" => format.binary = true,
                other => {
                    return Err(Error::new(
                        ErrorKind::InvalidParameterValue,
                        format!("COPY format \"{other}\" not recognized (use text, csv or binary)"),
                    ));
                }
            }
        }
    }
    for option in options {
        if format.binary
            && matches!(
                option,
                CopyOption::Delimiter(_)
                    | CopyOption::Null(_)
                    | CopyOption::Header(_)
                    | CopyOption::Quote(_)
            )
        {
            return Err(Error::syntax(format!(
                "cannot specify {option} in BINARY mode"
            )));
        }
        match option {
            CopyOption::Format(_) => {}
            CopyOption::Delimiter(c) => format.delimiter = ascii(*c)?,
            CopyOption::Null(n) => format.null = n.clone(),
            CopyOption::Header(h) => format.header = *h,
            CopyOption::Quote(c) => format.quote = ascii(*c)?,
            CopyOption::Encoding(e)
                if e.eq_ignore_ascii_case("utf8") || e.eq_ignore_ascii_case("utf-8") => {}
            other => {
                return Err(Error::unsupported(format!(
                    "COPY option {other} is not supported"
                )));
            }
        }
    }
    for option in legacy {
        match option {
            CopyLegacyOption::Binary => format.binary = true,
            CopyLegacyOption::Csv(csv_options) => {
                set_csv(&mut format);
                for o in csv_options {
                    match o {
                        CopyLegacyCsvOption::Header => format.header = true,
                        CopyLegacyCsvOption::Quote(c) => format.quote = ascii(*c)?,
                        other => {
                            return Err(Error::unsupported(format!(
                                "COPY option {other} is not supported"
                            )));
                        }
                    }
                }
            }
            CopyLegacyOption::Delimiter(c) => format.delimiter = ascii(*c)?,
            CopyLegacyOption::Null(n) => format.null = n.clone(),
            CopyLegacyOption::Header => format.header = true,
            other => {
                return Err(Error::unsupported(format!(
                    "COPY option {other} is not supported"
                )));
            }
        }
    }
    Ok(format)
}

fn ascii(c: char) -> Result<u8> {
    u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidParameterValue,
            format!("COPY needs a one-byte character, not {c}"),
        )
    })
}
