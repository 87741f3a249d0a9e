//! What running a statement produces: rows, a command tag, or nothing; plus notices. Shared by
//! the planner that builds it and the session and wire layers that deliver it.

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::SendableRecordBatchStream;

/// The result of one statement.
pub enum QueryOutput {
    /// Rows, streamed: nothing is buffered beyond DataFusion's own batches.
    Rows(RowSet),
    /// A statement without rows, with its PostgreSQL command tag.
    Command(CommandTag),
    /// An empty query string.
    Empty,
    /// COPY FROM STDIN: the client sends data next (see `Session::copy_in`).
    CopyIn(crate::plan::CopyIn),
    /// COPY TO STDOUT: formatted rows for the client.
    CopyOut(crate::plan::CopyOut),
}

impl std::fmt::Debug for QueryOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryOutput::Rows(r) => write!(
                f,
                "Rows({} columns, tag {})",
                r.schema.fields().len(),
                r.tag
            ),
            QueryOutput::Command(t) => write!(f, "Command({t:?})"),
            QueryOutput::Empty => write!(f, "Empty"),
            QueryOutput::CopyIn(c) => write!(f, "CopyIn({})", c.table),
            QueryOutput::CopyOut(c) => write!(f, "CopyOut({} columns)", c.columns),
        }
    }
}

impl QueryOutput {
    /// Rows from one in-memory batch (SHOW, DESCRIBE, operation metrics).
    pub fn from_batch(batch: datafusion::arrow::array::RecordBatch, tag: &str) -> Self {
        let schema = batch.schema();
        let stream = datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
            schema.clone(),
            futures::stream::iter(vec![Ok(batch)]),
        );
        QueryOutput::Rows(RowSet {
            schema,
            stream: Box::pin(stream),
            tag: tag.to_string(),
            plan: None,
            hints: Vec::new(),
        })
    }
}

/// A stream of record batches with its schema and the tag to complete it with (`SELECT`, `SHOW`).
pub struct RowSet {
    /// Column names and types.
    pub schema: SchemaRef,
    /// The batches.
    pub stream: SendableRecordBatchStream,
    /// The command tag; the wire layer appends the row count.
    pub tag: String,
    /// The physical plan producing the rows, when the engine runs one: its metrics are read
    /// after the last row for the console's plan page.
    pub plan: Option<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>>,
    /// The statement's hints and whether each changed the plan, for the console's plan page.
    pub hints: Vec<HintReport>,
}

/// One hint of a statement (`BROADCAST(c)`, `SKEW('o')`) and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HintReport {
    /// The hint as written.
    pub hint: String,
    /// Whether it shaped the plan.
    pub applied: bool,
    /// How it shaped the plan, or why it did not.
    pub detail: String,
}

impl RowSet {
    /// The same rows, raising `failed` if computing them fails (an error while rows stream
    /// reaches the client after the statement returned; the session learns of it by the flag).
    pub fn flagging_failure(self, failed: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        use futures::StreamExt;
        self.map_stream(|rows| {
            rows.inspect(move |item| {
                if item.is_err() {
                    failed.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            })
        })
    }

    /// The same row set with its stream wrapped by `wrap` (same schema, tag and plan).
    fn map_stream<S>(self, wrap: impl FnOnce(SendableRecordBatchStream) -> S) -> Self
    where
        S: futures::Stream<Item = datafusion::error::Result<datafusion::arrow::array::RecordBatch>>
            + Send
            + 'static,
    {
        let schema = self.schema.clone();
        let rows = wrap(self.stream);
        Self {
            stream: Box::pin(
                datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, rows),
            ),
            ..self
        }
    }

    /// The same rows, failing with 57014 once `deadline` passes while they are still computed.
    pub fn with_deadline(self, deadline: tokio::time::Instant) -> Self {
        use futures::StreamExt;
        let sleep = Box::pin(tokio::time::sleep_until(deadline));
        self.map_stream(|stream| {
            futures::stream::unfold(
                (stream, sleep, false),
                |(mut inner, mut sleep, expired)| async move {
                    if expired {
                        return None;
                    }
                    tokio::select! {
                        item = inner.next() => item.map(|item| (item, (inner, sleep, false))),
                        _ = &mut sleep => Some((
                            Err(datafusion::error::DataFusionError::External(Box::new(
                                statement_timeout(),
                            ))),
                            (inner, sleep, true),
                        )),
                    }
                },
            )
        })
    }
}

/// PostgreSQL command tags of statements without rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandTag {
    /// BEGIN / START TRANSACTION.
    Begin,
    /// COMMIT.
    Commit,
    /// ROLLBACK (also COMMIT of a failed block).
    Rollback,
    /// `INSERT 0 n`.
    Insert(u64),
    /// `UPDATE n`.
    Update(u64),
    /// `DELETE n`.
    Delete(u64),
    /// `MERGE n`.
    Merge(u64),
    /// `COPY n`.
    Copy(u64),
    /// `SELECT n` without rows sent (CREATE TABLE AS).
    Select(u64),
    /// Any other tag, e.g. `CREATE TABLE`, `SET`.
    Other(String),
}

/// How serious a notice is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeSeverity {
    /// NOTICE.
    Notice,
    /// WARNING.
    Warning,
}

/// A message for the client that is not an error (progress, "skipping", warnings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// NOTICE or WARNING.
    pub severity: NoticeSeverity,
    /// SQLSTATE (`00000`, `01000`, `25P01`, ...).
    pub code: String,
    /// The text.
    pub message: String,
}

impl Notice {
    /// A NOTICE.
    pub fn note(code: &str, message: impl Into<String>) -> Self {
        Self {
            severity: NoticeSeverity::Notice,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// A WARNING.
    pub fn warning(code: &str, message: impl Into<String>) -> Self {
        Self {
            severity: NoticeSeverity::Warning,
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// Where a statement's notices go: straight to the client while the statement runs when the wire
/// layer listens (progress of OPTIMIZE and MERGE), else buffered until it ends.
#[derive(Debug, Default)]
pub struct Notices {
    buffered: Vec<Notice>,
    live: Option<tokio::sync::mpsc::UnboundedSender<Notice>>,
}

impl Notices {
    /// Queues or sends one notice.
    pub fn push(&mut self, notice: Notice) {
        match &self.live {
            Some(tx) => {
                if let Err(unsent) = tx.send(notice) {
                    self.buffered.push(unsent.0);
                }
            }
            None => self.buffered.push(notice),
        }
    }

    /// The buffered notices.
    pub fn take(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.buffered)
    }

    /// Sends notices to `live` from now on (None: buffer them).
    pub fn set_live(&mut self, live: Option<tokio::sync::mpsc::UnboundedSender<Notice>>) {
        self.live = live;
    }
}

/// The error of a statement that ran past `statement_timeout` (57014, PostgreSQL's wording).
pub(crate) fn statement_timeout() -> crate::error::Error {
    crate::error::Error::new(
        crate::error::ErrorKind::QueryCanceled,
        "canceling statement due to statement timeout",
    )
}
