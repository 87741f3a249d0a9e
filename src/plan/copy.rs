//! `COPY t [(cols)] FROM STDIN` and `COPY t | (query) TO STDOUT` in PostgreSQL's text and CSV
//! formats (what psql's `\copy` sends).
//!
//! COPY FROM parses the whole input against the table's schema before writing anything, then
//! appends it in one Delta commit: a bad row fails the COPY with its line number and the table is
//! unchanged. The wire layer only moves the bytes.

use std::io::Cursor;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch, new_null_array};
use datafusion::arrow::csv::{ReaderBuilder, WriterBuilder};
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use deltalake::kernel::engine::arrow_conversion::TryIntoArrow;
use futures::StreamExt;
use futures::stream::BoxStream;
use sqlparser::ast::{
    self, CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget,
};

use super::names::normalize_ident;
use super::{PlanContext, resolve_table};
use crate::catalog::TableRef;
use crate::error::{Error, ErrorKind, Result};
use crate::session::QueryOutput;

/// How the COPY data is laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyFormat {
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
            csv: false,
            delimiter: b'\t',
            null: "\\N".into(),
            header: false,
            quote: b'"',
        }
    }
}

/// A COPY FROM STDIN waiting for its data.
#[derive(Debug, Clone)]
pub struct CopyIn {
    /// The target table.
    pub table: TableRef,
    /// The columns the data holds, in order (all columns when the statement names none).
    pub columns: Vec<String>,
    /// The layout.
    pub format: CopyFormat,
}

/// A COPY TO STDOUT: one chunk of formatted rows per record batch.
pub struct CopyOut {
    /// Number of columns.
    pub columns: usize,
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
            let schema = table_schema(cx, &table).await?;
            let all: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
            let columns: Vec<String> = if columns.is_empty() {
                all
            } else {
                let named: Vec<String> = columns.iter().map(normalize_ident).collect();
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
            Ok(QueryOutput::CopyIn(CopyIn {
                table,
                columns,
                format,
            }))
        }
        (true, CopyTarget::Stdout) => {
            let query = match source {
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
                    format!("SELECT {list} FROM {table_name}")
                }
                CopySource::Query(q) => q.to_string(),
            };
            let statement = crate::dialect::parse_single(&query)?
                .ok_or_else(|| Error::syntax("COPY needs a query"))?;
            let crate::dialect::Statement::Sql(statement) = statement else {
                return Err(Error::syntax("COPY (...) TO STDOUT needs a query"));
            };
            let plan = super::planned::logical_plan(&cx.df.state(), *statement).await?;
            let stream = cx
                .df
                .execute_logical_plan(plan)
                .await?
                .execute_stream()
                .await?;
            let columns = stream.schema().fields().len();
            let mut first = true;
            let data = stream
                .map(move |batch| {
                    let batch = batch?;
                    let header = std::mem::take(&mut first) && format.header;
                    format_batch(&batch, &format, header)
                })
                .boxed();
            Ok(QueryOutput::CopyOut(CopyOut { columns, data }))
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

/// Parses COPY data and appends it to the table in one commit; returns the row count.
pub async fn copy_in(cx: &mut PlanContext<'_>, copy: &CopyIn, data: &[u8]) -> Result<u64> {
    let schema = table_schema(cx, &copy.table).await?;
    let fields = copy
        .columns
        .iter()
        .map(|c| schema.field_with_name(c).cloned())
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let input_schema = Arc::new(Schema::new(fields));
    let null = regex::Regex::new(&format!("^{}$", regex::escape(&copy.format.null)))
        .map_err(|e| Error::internal(format!("null pattern: {e}")))?;
    let reader = |batch_size: usize| {
        let mut builder = ReaderBuilder::new(input_schema.clone())
            .with_header(copy.format.header)
            .with_delimiter(copy.format.delimiter)
            .with_null_regex(null.clone())
            .with_batch_size(batch_size);
        if copy.format.csv {
            builder = builder.with_quote(copy.format.quote);
        }
        builder.build(Cursor::new(data))
    };
    let mut batches = Vec::new();
    let mut rows = 0u64;
    for batch in reader(8192)? {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                // Find the offending line: re-read row by row up to the failure.
                let good = reader(1)?.take_while(Result::is_ok).count();
                let line = good + 1 + usize::from(copy.format.header);
                return Err(Error::new(
                    ErrorKind::InvalidTextRepresentation,
                    format!("COPY {}, line {line}: {e}", copy.table),
                )
                .with_hint("nothing was written; fix the row and run the COPY again"));
            }
        };
        rows += batch.num_rows() as u64;
        batches.push(widen(&batch, &schema)?);
    }
    if rows == 0 {
        return Ok(0);
    }
    let table = cx.catalog.load(&copy.table).await?;
    table.write(batches).await?;
    Ok(rows)
}

/// Fills the columns the COPY did not name with NULLs, in table order.
fn widen(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| match batch.schema().index_of(f.name()) {
            Ok(i) => batch.column(i).clone(),
            Err(_) => new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect();
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

async fn table_schema(cx: &PlanContext<'_>, table: &TableRef) -> Result<SchemaRef> {
    let delta = cx.catalog.load(table).await?;
    let kernel_schema = delta.snapshot()?.schema();
    let arrow: Schema = kernel_schema
        .as_ref()
        .try_into_arrow()
        .map_err(|e| Error::internal(format!("table schema: {e}")))?;
    Ok(Arc::new(arrow))
}

fn format_batch(batch: &RecordBatch, format: &CopyFormat, header: bool) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut writer = WriterBuilder::new()
            .with_header(header)
            .with_delimiter(format.delimiter)
            .with_null(format.null.clone())
            .with_date_format("%Y-%m-%d".into())
            .with_datetime_format("%Y-%m-%d %H:%M:%S%.f".into())
            .with_timestamp_format("%Y-%m-%d %H:%M:%S%.f".into())
            .with_timestamp_tz_format("%Y-%m-%d %H:%M:%S%.f%:z".into())
            .build(&mut out);
        writer.write(batch)?;
    }
    Ok(out)
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
                other => {
                    return Err(Error::unsupported(format!(
                        "COPY format {other} is not supported (use text or csv)"
                    )));
                }
            }
        }
    }
    for option in options {
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
