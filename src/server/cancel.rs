//! CancelRequest for rows that are still being computed.
//!
//! pgwire fires a connection's cancel signal while our query handler runs, but a query's rows
//! are computed while they stream to the client, after the handler has returned. This wraps the
//! row stream so that a CancelRequest arriving during streaming stops it with 57014 ("canceling
//! statement due to user request"), as PostgreSQL does.

use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;
use futures::channel::oneshot;
use pgwire::api::ConnectionHandle;

use crate::error::{Error, ErrorKind};
use crate::session::{QueryOutput, RowSet};

/// Where the stream is with the connection's cancel signal.
enum Signal {
    /// Not yet listening (armed on the first poll, once pgwire's own wait is over).
    Unarmed,
    /// Listening.
    Armed(oneshot::Receiver<()>),
    /// Canceled, or the signal now belongs to a later query.
    Done,
}

/// `output` with its rows (if any) stopped by the connection's next CancelRequest, and the
/// connection held `busy` while they stream.
pub fn cancellable(
    output: QueryOutput,
    handle: Option<Arc<ConnectionHandle>>,
    busy: super::idle::Busy,
) -> QueryOutput {
    match output {
        QueryOutput::Rows(rows) => wrap(rows, handle, busy),
        output => output,
    }
}

fn wrap(
    rows: RowSet,
    handle: Option<Arc<ConnectionHandle>>,
    busy: super::idle::Busy,
) -> QueryOutput {
    let schema = rows.schema.clone();
    let initial = if handle.is_some() {
        Signal::Unarmed
    } else {
        Signal::Done
    };
    let stream = futures::stream::unfold(
        (rows.stream, initial, (handle, busy), false),
        |(mut inner, signal, handle, stopped)| async move {
            if stopped {
                return None;
            }
            let mut receiver = match signal {
                Signal::Unarmed => match &handle.0 {
                    Some(h) => h.start_query().await,
                    None => return None,
                },
                Signal::Armed(r) => r,
                Signal::Done => {
                    return inner
                        .next()
                        .await
                        .map(|item| (item, (inner, Signal::Done, handle, false)));
                }
            };
            tokio::select! {
                item = inner.next() => item.map(|item| (item, (inner, Signal::Armed(receiver), handle, false))),
                fired = &mut receiver => match fired {
                    Ok(()) => Some((
                        Err(DataFusionError::External(Box::new(Error::new(
                            ErrorKind::QueryCanceled,
                            "canceling statement due to user request",
                        )))),
                        (inner, Signal::Done, handle, true),
                    )),
                    Err(_) => inner.next().await.map(|item| (item, (inner, Signal::Done, handle, false))),
                },
            }
        },
    );
    QueryOutput::Rows(RowSet {
        schema: schema.clone(),
        stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
        tag: rows.tag,
        plan: rows.plan,
        hints: rows.hints,
    })
}
