//! A logical plan whose only input is an already running stream of batches, replayed in order.
//!
//! delta-rs writes from a logical plan that it plans and optimizes itself; an ORDER BY inside it
//! is fair game for the optimizer when nothing above asks for that order. Rows whose order matters
//! (OPTIMIZE ZORDER BY) are therefore sorted first and arrive through this source, which no
//! optimizer can reorder.

use std::sync::{Arc, Mutex};

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::datasource::provider_as_source;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;

use crate::error::Result;

/// One stream, handed out once.
struct ReplayOnce {
    schema: SchemaRef,
    stream: Mutex<Option<SendableRecordBatchStream>>,
}

impl std::fmt::Debug for ReplayOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReplayOnce")
    }
}

impl PartitionStream for ReplayOnce {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        match self.stream.lock().expect("replay lock").take() {
            Some(stream) => stream,
            None => Box::pin(RecordBatchStreamAdapter::new(
                self.schema.clone(),
                futures::stream::once(async {
                    Err(datafusion::error::DataFusionError::Internal(
                        "a replayed stream can be read only once".into(),
                    ))
                }),
            )),
        }
    }
}

/// A plan that yields `stream`'s batches in their order.
pub fn replay_plan(stream: SendableRecordBatchStream) -> Result<LogicalPlan> {
    let schema = stream.schema();
    let source = Arc::new(ReplayOnce {
        schema: schema.clone(),
        stream: Mutex::new(Some(stream)),
    });
    let table = StreamingTable::try_new(schema, vec![source])?;
    Ok(LogicalPlanBuilder::scan("replay", provider_as_source(Arc::new(table)), None)?.build()?)
}
