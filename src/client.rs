//! Running SQL text from our own tools (plan-check, the pipeline runner) either in-process or
//! against a running server.
//!
//! The embedded form opens the engine on the configured data directory, as `deltagres serve`
//! would; the remote form speaks the wire protocol with tokio-postgres, exactly like any client.
//! Both return rows as text, which is all these tools need.

use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use futures::StreamExt;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::session::{CommandTag, Notice, QueryOutput, Session};

/// The outcome of one statement: its rows as text, and how many rows it changed.
#[derive(Debug, Default, Clone)]
pub struct StatementResult {
    /// Result rows, each column as text (None for NULL).
    pub rows: Vec<Vec<Option<String>>>,
    /// Rows inserted, updated, deleted or merged, when the statement says.
    pub affected: Option<u64>,
}

/// Where SQL runs.
pub enum SqlRunner {
    /// An engine in this process.
    Embedded(Box<Session>),
    /// A server reached over the wire.
    Remote(tokio_postgres::Client),
}

impl SqlRunner {
    /// Opens the engine on `config`'s data directory.
    pub async fn embedded(config: Config) -> Result<Self> {
        Ok(Self::embedded_on(Engine::open(config).await?))
    }

    /// A new session of an engine already open.
    pub fn embedded_on(engine: std::sync::Arc<Engine>) -> Self {
        SqlRunner::Embedded(Box::new(Session::new(engine, &[])))
    }

    /// Connects to `url` (`postgres://user@host:port/db`); notices go to the log.
    pub async fn connect(url: &str) -> Result<Self> {
        let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| {
                Error::new(
                    ErrorKind::ConnectionFailure,
                    format!("cannot connect to {url}: {e}"),
                )
            })?;
        tokio::spawn(async move {
            let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
            while let Some(message) = messages.next().await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notice(notice)) => {
                        if notice.severity() == "WARNING" {
                            tracing::warn!("{}", notice.message());
                        } else {
                            tracing::debug!(severity = notice.severity(), "{}", notice.message());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "connection closed");
                        break;
                    }
                }
            }
        });
        Ok(SqlRunner::Remote(client))
    }

    /// Runs the statements of `sql` (one or several); returns the last one's result.
    pub async fn run(&mut self, sql: &str) -> Result<StatementResult> {
        match self {
            SqlRunner::Embedded(session) => run_embedded(session, sql).await,
            SqlRunner::Remote(client) => run_remote(client, sql).await,
        }
    }

    /// What cancels the running statement of a remote runner (an embedded statement stops when
    /// its future is dropped).
    pub fn cancel_token(&self) -> Option<tokio_postgres::CancelToken> {
        match self {
            SqlRunner::Remote(client) => Some(client.cancel_token()),
            SqlRunner::Embedded(_) => None,
        }
    }

    /// Notices the embedded engine produced since the last call (a server's go to the log).
    pub fn take_notices(&mut self) -> Vec<Notice> {
        match self {
            SqlRunner::Embedded(session) => session.take_notices(),
            SqlRunner::Remote(_) => Vec::new(),
        }
    }
}

async fn run_embedded(session: &mut Session, sql: &str) -> Result<StatementResult> {
    let mut result = StatementResult::default();
    for statement in session.parse(sql)? {
        result = StatementResult::default();
        match session.execute(statement).await? {
            QueryOutput::Rows(mut rows) => {
                let mut count = 0u64;
                while let Some(batch) = rows.stream.next().await {
                    let batch = batch?;
                    let options = FormatOptions::default().with_null("\u{0}");
                    let formatters = batch
                        .columns()
                        .iter()
                        .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                        .collect::<std::result::Result<Vec<_>, _>>()?;
                    for row in 0..batch.num_rows() {
                        result.rows.push(
                            formatters
                                .iter()
                                .enumerate()
                                .map(|(i, f)| {
                                    (!batch.column(i).is_null(row))
                                        .then(|| f.value(row).to_string())
                                })
                                .collect(),
                        );
                        count += 1;
                    }
                }
                if rows.tag != "SELECT" && rows.tag != "EXPLAIN" {
                    result.affected = Some(count);
                }
            }
            QueryOutput::Command(tag) => result.affected = affected(&tag),
            QueryOutput::CopyIn(_) | QueryOutput::CopyOut(_) => {
                return Err(Error::unsupported(
                    "COPY ... STDIN/STDOUT needs a client; use read_parquet or COPY with a file path",
                ));
            }
            QueryOutput::Empty => {}
        }
    }
    Ok(result)
}

fn affected(tag: &CommandTag) -> Option<u64> {
    match tag {
        CommandTag::Insert(n)
        | CommandTag::Update(n)
        | CommandTag::Delete(n)
        | CommandTag::Merge(n)
        | CommandTag::Select(n) => Some(*n),
        _ => None,
    }
}

async fn run_remote(client: &tokio_postgres::Client, sql: &str) -> Result<StatementResult> {
    let messages = client.simple_query(sql).await.map_err(remote_error)?;
    let mut result = StatementResult::default();
    let mut fresh = true;
    for message in messages {
        if fresh {
            result = StatementResult::default();
            fresh = false;
        }
        match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => result.rows.push(
                (0..row.len())
                    .map(|i| row.get(i).map(str::to_string))
                    .collect(),
            ),
            tokio_postgres::SimpleQueryMessage::CommandComplete(n) => {
                result.affected = Some(n);
                fresh = true;
            }
            _ => {}
        }
    }
    Ok(result)
}

/// A server's error, keeping its SQLSTATE and message.
fn remote_error(e: tokio_postgres::Error) -> Error {
    match e.as_db_error() {
        Some(db) => {
            let mut error = Error::new(ErrorKind::from_sqlstate(db.code().code()), db.message());
            if let Some(detail) = db.detail() {
                error = error.with_detail(detail.to_string());
            }
            if let Some(hint) = db.hint() {
                error = error.with_hint(hint.to_string());
            }
            error
        }
        None => Error::new(ErrorKind::ConnectionFailure, e.to_string()),
    }
}
