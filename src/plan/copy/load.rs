//! COPY FROM STDIN as a stream: data is decoded as it arrives, in batches of bounded size, and
//! written by delta-rs while the client still sends, then committed once at the end (one Delta
//! version, or nothing when anything fails). Memory stays bounded by a few batches, whatever
//! the input size; a slow writer slows the client down (the channel is bounded).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch, StringArray, new_null_array};
use datafusion::arrow::compute::{CastOptions, cast_with_options};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::catalog::Session;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::common::DataFusionError;
use datafusion::datasource::provider_as_source;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use deltalake::DeltaTable;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::binary::BinaryDecoder;
use super::csv::CsvDecoder;
use super::text::{Fields, LineSplitter, decode_line};
use super::{CopyFormat, CopyIn};
use crate::error::{Error, ErrorKind, Result};

/// Rows per batch handed to the writer.
const BATCH_ROWS: usize = 8192;
/// Batches that may wait for the writer before the client is slowed down.
const CHANNEL_BATCHES: usize = 2;
/// The longest line (or CSV record) accepted, as PostgreSQL limits a field to 1 GB.
const MAX_LINE_BYTES: usize = 256 << 20;

type Sent = std::result::Result<RecordBatch, DataFusionError>;

/// A COPY FROM STDIN in progress.
pub struct CopyLoad {
    table: String,
    columns: Vec<String>,
    /// The identity columns the data gives values for: NULL there is 23502, as in PostgreSQL
    /// (only columns left out of the COPY are generated).
    identity_given: Vec<String>,
    input_types: Vec<DataType>,
    table_schema: SchemaRef,
    decoder: Decoder,
    skip_header: bool,
    line: u64,
    rows: Vec<(u64, Fields)>,
    loaded: u64,
    sender: Option<mpsc::Sender<Sent>>,
    complete: Arc<AtomicBool>,
    writer: Option<JoinHandle<Result<()>>>,
    failure: Option<Error>,
    deadline: Option<tokio::time::Instant>,
}

impl std::fmt::Debug for CopyLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CopyLoad({}, {} rows so far)", self.table, self.loaded)
    }
}

/// The formats' decoders behind one interface.
enum Decoder {
    Binary(BinaryDecoder),
    Text {
        lines: LineSplitter,
        delimiter: u8,
        null: String,
    },
    Csv(CsvDecoder),
}

impl CopyLoad {
    /// Starts the writer for `copy` into `table` (loaded at its latest version), planning in
    /// `state` (the session's: its memory pool and settings).
    pub fn start(
        copy: &CopyIn,
        table: DeltaTable,
        table_schema: SchemaRef,
        defaults: Vec<(String, datafusion::logical_expr::Expr)>,
        state: Arc<dyn Session>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Self> {
        let input_types = copy
            .columns
            .iter()
            .map(|c| Ok(table_schema.field_with_name(c)?.data_type().clone()))
            .collect::<Result<Vec<_>>>()?;
        let copy_types = input_types.clone();
        let identity_given = copy
            .columns
            .iter()
            .filter(|c| {
                table_schema.field_with_name(c).is_ok_and(|field| {
                    crate::delta::IdentityColumn::from_arrow_field(field).is_some()
                })
            })
            .cloned()
            .collect();
        // Identity columns left out of the COPY are NULL until the append generates them, and
        // columns with a default until the plan gives them theirs.
        let table_schema = Arc::new(datafusion::arrow::datatypes::Schema::new_with_metadata(
            table_schema
                .fields()
                .iter()
                .map(|field| {
                    let nullable = field.is_nullable()
                        || crate::delta::IdentityColumn::from_arrow_field(field).is_some()
                        || defaults.iter().any(|(c, _)| c == field.name());
                    field.as_ref().clone().with_nullable(nullable)
                })
                .collect::<Vec<_>>(),
            table_schema.metadata().clone(),
        ));
        let (sender, receiver) = mpsc::channel(CHANNEL_BATCHES);
        let complete = Arc::new(AtomicBool::new(false));
        let source = Arc::new(ChannelPartition {
            schema: table_schema.clone(),
            receiver: std::sync::Mutex::new(Some(receiver)),
            complete: complete.clone(),
        });
        let provider = StreamingTable::try_new(table_schema.clone(), vec![source])?;
        let plan = LogicalPlanBuilder::scan(
            "copy_from_stdin",
            provider_as_source(Arc::new(provider)),
            None,
        )?
        .build()?;
        let plan = crate::plan::column_defaults::with_defaults(plan, &defaults)?;
        let plan = crate::plan::column_input::checked_rows(plan, &table_schema)?;
        let writer = tokio::spawn(async move {
            // The same append as INSERT's (identity columns generated where not given).
            let (_, table) = crate::delta::append_plan(table, plan, state).await?;
            // Committed: a failed checkpoint is the next commit's to retry.
            if let Err(e) = crate::delta::checkpoint_if_due(&table).await {
                tracing::warn!(error = %e.message, "log upkeep after COPY failed");
            }
            Ok(())
        });
        Ok(Self {
            table: copy.table.to_string(),
            columns: copy.columns.clone(),
            identity_given,
            input_types,
            table_schema,
            decoder: Decoder::new(&copy.format, &copy_types),
            skip_header: copy.format.header,
            line: 0,
            rows: Vec::new(),
            loaded: 0,
            sender: Some(sender),
            complete,
            writer: Some(writer),
            failure: None,
            deadline,
        })
    }

    /// Takes the next CopyData bytes. A failure is kept for [`CopyLoad::finish`] (the client
    /// keeps sending until CopyDone, and the rest of its data is discarded).
    pub async fn push(&mut self, bytes: &[u8]) {
        if self.failure.is_some() {
            return;
        }
        if let Err(e) = self.push_inner(bytes).await {
            self.fail(e);
        }
    }

    async fn push_inner(&mut self, bytes: &[u8]) -> Result<()> {
        self.check_deadline()?;
        let records = self.decoder.push(bytes, &mut self.line)?;
        for (line, record) in records {
            self.add_record(line, record).await?;
        }
        if self.decoder.pending_len() > MAX_LINE_BYTES {
            return Err(Error::new(
                ErrorKind::BadCopyFileFormat,
                format!(
                    "COPY {}, line {}: a line is longer than {} MiB",
                    self.table,
                    self.line + 1,
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
        Ok(())
    }

    /// CopyDone: writes what is left and commits; returns the rows loaded.
    pub async fn finish(mut self) -> Result<u64> {
        if self.failure.is_none() {
            let result = async {
                self.check_deadline()?;
                if let Some((line, record)) = self.decoder.finish(&mut self.line)? {
                    self.add_record(line, record).await?;
                }
                self.send_rows().await
            }
            .await;
            if let Err(e) = result {
                self.fail(e);
            }
        }
        if let Some(failure) = self.failure.take() {
            self.abort();
            return Err(
                failure.with_hint("nothing was written; fix the data and run the COPY again")
            );
        }
        if self.loaded == 0 {
            // Nothing to commit: no empty version for an empty COPY.
            self.abort();
            return Ok(0);
        }
        self.complete.store(true, Ordering::SeqCst);
        self.sender.take();
        let writer = self.writer.take().expect("writer runs until finish");
        let written = match self.deadline {
            Some(deadline) => tokio::time::timeout_at(deadline, writer)
                .await
                .map_err(|_| statement_timeout())?,
            None => writer.await,
        };
        written.map_err(|e| Error::internal(format!("COPY writer stopped: {e}")))??;
        Ok(self.loaded)
    }

    async fn add_record(&mut self, line: u64, record: Fields) -> Result<()> {
        if std::mem::take(&mut self.skip_header) {
            return Ok(());
        }
        if record.len() != self.columns.len() {
            let what = if record.len() > self.columns.len() {
                "extra data after last expected column".to_string()
            } else {
                format!("missing data for column \"{}\"", self.columns[record.len()])
            };
            return Err(Error::new(
                ErrorKind::BadCopyFileFormat,
                format!("COPY {}, line {line}: {what}", self.table),
            ));
        }
        self.rows.push((line, record));
        if self.rows.len() >= BATCH_ROWS {
            self.send_rows().await?;
        }
        Ok(())
    }

    /// Turns the rows held into a batch of the table's shape and hands it to the writer.
    async fn send_rows(&mut self) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.rows);
        let batch = self.batch(&rows)?;
        self.loaded += batch.num_rows() as u64;
        let sender = self.sender.as_ref().expect("sender lives until finish");
        if sender.send(Ok(batch)).await.is_err() {
            // The writer stopped: its error says why.
            return Err(self.writer_error().await);
        }
        Ok(())
    }

    fn batch(&self, rows: &[(u64, Fields)]) -> Result<RecordBatch> {
        let options = CastOptions {
            safe: false,
            ..Default::default()
        };
        let mut by_name = std::collections::HashMap::new();
        for (i, (column, data_type)) in self.columns.iter().zip(&self.input_types).enumerate() {
            if matches!(data_type, DataType::Binary | DataType::LargeBinary) {
                let values = rows
                    .iter()
                    .map(|(line, r)| {
                        r[i].as_deref()
                            .map(|text| {
                                crate::semantics::bytea_in(text).map_err(|e| {
                                    let message = format!(
                                        "COPY {}, line {line}, column {column}: {}",
                                        self.table, e.message
                                    );
                                    Error { message, ..e }
                                })
                            })
                            .transpose()
                    })
                    .collect::<Result<Vec<Option<Vec<u8>>>>>()?;
                let array: ArrayRef =
                    Arc::new(datafusion::arrow::array::BinaryArray::from_iter(values));
                by_name.insert(
                    column.as_str(),
                    cast_with_options(&array, data_type, &options)?,
                );
                continue;
            }
            let text: ArrayRef = Arc::new(StringArray::from_iter(
                rows.iter().map(|(_, r)| r[i].as_deref()),
            ));
            let read = |text: &ArrayRef| {
                if matches!(data_type, DataType::List(_)) {
                    crate::semantics::array_in(text.as_string::<i32>(), data_type)
                } else {
                    Ok(cast_with_options(text, data_type, &options)?)
                }
            };
            let typed = match read(&text) {
                Ok(typed) => typed,
                Err(_) => {
                    let (line, value, failure) = rows
                        .iter()
                        .find_map(|(line, r)| {
                            let one: ArrayRef = Arc::new(StringArray::from(vec![r[i].as_deref()]));
                            read(&one)
                                .err()
                                .map(|e| (*line, r[i].clone().unwrap_or_default(), e))
                        })
                        .unwrap_or((0, String::new(), DataFusionError::Internal(String::new())));
                    // An array's own error names the element or the syntax; a scalar's is
                    // worded as PostgreSQL's input functions word it.
                    let error = if matches!(data_type, DataType::List(_)) {
                        Error::from(failure)
                    } else {
                        invalid_value(&value, data_type)
                    };
                    let message = format!(
                        "COPY {}, line {line}, column {column}: {}",
                        self.table, error.message
                    );
                    return Err(Error { message, ..error });
                }
            };
            if typed.null_count() > 0 && self.identity_given.contains(column) {
                let line = rows
                    .iter()
                    .find(|(_, r)| r[i].is_none())
                    .map_or(0, |(line, _)| *line);
                return Err(Error::new(
                    ErrorKind::NotNullViolation,
                    format!(
                        "COPY {}, line {line}, column {column}: null value in column \"{column}\" violates not-null constraint",
                        self.table
                    ),
                )
                .with_hint("leave the identity column out of the COPY column list to have its values generated"));
            }
            by_name.insert(column.as_str(), typed);
        }
        let columns: Vec<ArrayRef> = self
            .table_schema
            .fields()
            .iter()
            .map(|f| {
                by_name
                    .remove(f.name().as_str())
                    .unwrap_or_else(|| new_null_array(f.data_type(), rows.len()))
            })
            .collect();
        RecordBatch::try_new(self.table_schema.clone(), columns).map_err(|e| {
            let text = e.to_string();
            if text.contains("non-nullable") {
                Error::new(
                    ErrorKind::NotNullViolation,
                    format!(
                        "COPY {}: null value violates not-null constraint ({text})",
                        self.table
                    ),
                )
            } else {
                Error::from(e)
            }
        })
    }

    async fn writer_error(&mut self) -> Error {
        match self.writer.take() {
            Some(writer) => match writer.await {
                Ok(Err(e)) => e,
                Ok(Ok(())) => Error::internal("the COPY writer ended early"),
                Err(e) => Error::internal(format!("COPY writer stopped: {e}")),
            },
            None => Error::internal("the COPY writer is gone"),
        }
    }

    fn check_deadline(&self) -> Result<()> {
        match self.deadline {
            Some(deadline) if tokio::time::Instant::now() >= deadline => Err(statement_timeout()),
            _ => Ok(()),
        }
    }

    fn fail(&mut self, e: Error) {
        tracing::info!(table = %self.table, error = %e.message, "COPY failed; nothing is committed");
        self.failure = Some(e);
        self.rows.clear();
        self.abort();
    }

    /// Stops the writer without a commit: the stream it reads ends in an error.
    fn abort(&mut self) {
        if let Some(sender) = self.sender.take() {
            let _ = sender.try_send(Err(DataFusionError::Execution("COPY aborted".into())));
        }
        if let Some(writer) = self.writer.take() {
            writer.abort();
        }
    }
}

impl Drop for CopyLoad {
    /// A COPY dropped before CopyDone (CopyFail, a lost connection) commits nothing.
    fn drop(&mut self) {
        self.abort();
    }
}

/// Why `value` is not a `data_type`, with PostgreSQL's SQLSTATE: a well-formed date or time
/// with a field out of range is 22008, other text for a date or time 22007, a number too large
/// for its type 22003, anything else 22P02.
fn invalid_value(value: &str, data_type: &DataType) -> Error {
    let type_name = match crate::catalog::pg_type_name(data_type).as_str() {
        "int2" => "smallint".to_string(),
        "int4" => "integer".to_string(),
        "int8" => "bigint".to_string(),
        "float4" => "real".to_string(),
        "float8" => "double precision".to_string(),
        "bool" => "boolean".to_string(),
        "timestamptz" => "timestamp with time zone".to_string(),
        other => other.to_string(),
    };
    let trimmed = value.trim();
    let looks_like_date = trimmed.len() >= 8
        && trimmed.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && trimmed.as_bytes()[4] == b'-';
    let too_large = match data_type {
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => {
            trimmed.parse::<i128>().is_ok()
        }
        DataType::Decimal128(..) | DataType::Decimal256(..) => trimmed.parse::<f64>().is_ok(),
        _ => false,
    };
    let is_datetime = matches!(
        data_type,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
    );
    if is_datetime && looks_like_date {
        Error::new(
            ErrorKind::DatetimeFieldOverflow,
            format!("date/time field value out of range: \"{value}\""),
        )
    } else if is_datetime {
        Error::new(
            ErrorKind::InvalidDatetimeFormat,
            format!("invalid input syntax for type {type_name}: \"{value}\""),
        )
    } else if too_large {
        Error::new(
            ErrorKind::NumericValueOutOfRange,
            format!("value \"{value}\" is out of range for type {type_name}"),
        )
    } else {
        Error::new(
            ErrorKind::InvalidTextRepresentation,
            format!("invalid input syntax for type {type_name}: \"{value}\""),
        )
    }
}

fn statement_timeout() -> Error {
    Error::new(
        ErrorKind::QueryCanceled,
        "canceling statement due to statement timeout",
    )
}

impl Decoder {
    fn new(format: &CopyFormat, types: &[DataType]) -> Self {
        if format.binary {
            Decoder::Binary(BinaryDecoder::new(types.to_vec()))
        } else if format.csv {
            Decoder::Csv(CsvDecoder::new(
                format.delimiter,
                format.quote,
                format.null.clone(),
            ))
        } else {
            Decoder::Text {
                lines: LineSplitter::default(),
                delimiter: format.delimiter,
                null: format.null.clone(),
            }
        }
    }

    /// Records completed by `bytes`, each with its line number; `line` counts the lines read.
    fn push(&mut self, bytes: &[u8], line: &mut u64) -> Result<Vec<(u64, Fields)>> {
        match self {
            Decoder::Binary(binary) => binary.push(bytes, line),
            Decoder::Text {
                lines,
                delimiter,
                null,
            } => lines
                .push(bytes)
                .into_iter()
                .map(|l| {
                    *line += 1;
                    Ok((*line, decode_line(&l, *delimiter, null, *line)?))
                })
                .collect(),
            Decoder::Csv(csv) => {
                let records = csv.push(bytes)?;
                *line = csv.line().saturating_sub(1);
                Ok(records)
            }
        }
    }

    fn finish(&mut self, line: &mut u64) -> Result<Option<(u64, Fields)>> {
        match self {
            Decoder::Binary(binary) => binary.finish().map(|()| None),
            Decoder::Text {
                lines,
                delimiter,
                null,
            } => match lines.finish() {
                Some(l) => {
                    *line += 1;
                    Ok(Some((*line, decode_line(&l, *delimiter, null, *line)?)))
                }
                None => Ok(None),
            },
            Decoder::Csv(csv) => {
                let record = csv.finish()?;
                *line = csv.line();
                Ok(record)
            }
        }
    }

    fn pending_len(&self) -> usize {
        match self {
            Decoder::Binary(binary) => binary.pending_len(),
            Decoder::Text { lines, .. } => lines.pending_len(),
            Decoder::Csv(csv) => csv.pending_len(),
        }
    }
}

/// The write plan's source: the batches the decoder sends, once. It ends without error only
/// after `finish` marked the input complete, so a COPY that is dropped part way (the channel
/// closes early) can never commit what it had sent.
#[derive(Debug)]
struct ChannelPartition {
    schema: SchemaRef,
    receiver: std::sync::Mutex<Option<mpsc::Receiver<Sent>>>,
    complete: Arc<AtomicBool>,
}

impl PartitionStream for ChannelPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let receiver = self
            .receiver
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        let complete = self.complete.clone();
        let stream = futures::stream::unfold(
            (receiver, complete, false),
            |(receiver, complete, done)| async move {
                if done {
                    return None;
                }
                let Some(mut rx) = receiver else {
                    let e = DataFusionError::Internal("COPY input read twice".into());
                    return Some((Err(e), (None, complete, true)));
                };
                match rx.recv().await {
                    Some(item) => Some((item, (Some(rx), complete, false))),
                    None if complete.load(Ordering::SeqCst) => None,
                    None => Some((
                        Err(DataFusionError::Execution(
                            "COPY input ended before CopyDone".into(),
                        )),
                        (None, complete, true),
                    )),
                }
            },
        );
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), stream))
    }
}
