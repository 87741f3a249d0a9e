//! `/metrics` in the OpenMetrics text format (prometheus-client's encoder): the statement
//! registry's counters and the engine's memory pool, read at scrape time.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::activity::Activity;
use crate::engine::Engine;

/// The metrics page's text.
pub fn encode_metrics(activity: &Activity, engine: &Engine) -> Result<String, String> {
    let mut registry = Registry::default();
    activity.metrics().register(&mut registry);
    let memory: Gauge = Gauge::default();
    memory.set(engine.memory_reserved() as i64);
    registry.register(
        "deltagres_memory_pool_reserved_bytes",
        "Bytes the query engine's memory pool has handed out",
        memory,
    );
    let mut text = String::new();
    encode(&mut text, &registry).map_err(|e| format!("cannot encode metrics: {e}"))?;
    Ok(text)
}
