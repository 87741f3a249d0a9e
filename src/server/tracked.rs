//! Reports a statement to the statement registry (`activity`) as its rows stream to the
//! client: rows as they are sent, then the end (done, or failed with the SQLSTATE the client
//! got). Commands without rows are reported done at once.

use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use crate::activity::Tracker;
use crate::error::Error;
use crate::session::{QueryOutput, RowSet};

/// `output` whose end is reported through `tracker`.
pub fn tracked(output: QueryOutput, tracker: Tracker) -> QueryOutput {
    let QueryOutput::Rows(rows) = output else {
        tracker.done();
        return output;
    };
    let RowSet {
        schema,
        stream,
        tag,
        plan,
        hints,
    } = rows;
    if !hints.is_empty() {
        tracker.hints(hints.clone());
    }
    // The plan's metrics are read after the last row: spill always, the whole report only when
    // someone will look at it.
    let executed = plan.clone();
    let stream =
        futures::stream::unfold((stream, Some(tracker)), move |(mut inner, mut tracker)| {
            let executed = executed.clone();
            async move {
                let item = inner.next().await;
                match &item {
                    Some(Ok(batch)) => {
                        if let Some(t) = &tracker {
                            t.rows(batch.num_rows() as u64);
                        }
                    }
                    Some(Err(e)) => {
                        if let Some(t) = tracker.take() {
                            let error = Error::from(e.clone_for_report());
                            t.failed(error.sqlstate(), &error.message);
                        }
                    }
                    None => {
                        if let Some(t) = tracker.take() {
                            if let Some(plan) = &executed {
                                t.spilled(crate::session::spilled_bytes(plan));
                                if t.wants_plan() {
                                    t.plan(crate::session::executed_plan_report(plan));
                                }
                            }
                            t.done();
                        }
                    }
                }
                item.map(|item| (item, (inner, tracker)))
            }
        });
    QueryOutput::Rows(RowSet {
        schema: schema.clone(),
        stream: Box::pin(RecordBatchStreamAdapter::new(schema, stream)),
        tag,
        plan,
        hints,
    })
}

/// A DataFusion error cannot be cloned; its report keeps the message the client gets.
trait CloneForReport {
    fn clone_for_report(&self) -> datafusion::error::DataFusionError;
}

impl CloneForReport for datafusion::error::DataFusionError {
    fn clone_for_report(&self) -> datafusion::error::DataFusionError {
        match self {
            datafusion::error::DataFusionError::External(e) => match e.downcast_ref::<Error>() {
                Some(ours) => datafusion::error::DataFusionError::External(Box::new(Error::new(
                    ours.kind,
                    ours.message.clone(),
                ))),
                None => datafusion::error::DataFusionError::Execution(self.message().to_string()),
            },
            other => datafusion::error::DataFusionError::Execution(other.message().to_string()),
        }
    }
}
