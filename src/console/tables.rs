//! The Tables pages: every table with its version, files and size, and one table's file-size
//! histogram (small files show up in the first bars), partitions, last OPTIMIZE and VACUUM,
//! z-order columns and history with each commit's operation metrics. Read from the Delta log
//! through the catalog; a table that cannot be read shows its error and nothing else fails.

use std::collections::BTreeMap;
use std::fmt::Write;

use deltalake::DeltaTable;
use deltalake::kernel::CommitInfo;
use futures::TryStreamExt;

use super::pages::{escape, layout};
use crate::catalog::TableRef;
use crate::engine::Engine;
use crate::plan::human_bytes;

/// Commits shown on a table's page.
const HISTORY_SHOWN: usize = 25;

/// Upper bounds (bytes) of the file-size histogram's bars; the last bar is everything larger.
const SIZE_BUCKETS: [(u64, &str); 5] = [
    (1 << 20, "< 1 MB"),
    (8 << 20, "1-8 MB"),
    (32 << 20, "8-32 MB"),
    (128 << 20, "32-128 MB"),
    (512 << 20, "128-512 MB"),
];

fn table_link(t: &TableRef) -> String {
    format!(
        "<a href=\"/tables/{}/{}\">{}.{}</a>",
        urlencode(&t.schema),
        urlencode(&t.table),
        escape(&t.schema),
        escape(&t.table)
    )
}

/// Path segment encoding for schema and table names (quoted identifiers may hold anything).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every table of the catalog with its version, files and size.
pub async fn list(engine: &Engine) -> String {
    let catalog = engine.catalog();
    let mut body = String::from(
        "<h1>Tables</h1><table class=\"tables\"><thead><tr><th>Table</th><th>Version</th>\
         <th>Files</th><th>Size</th><th>Small files (&lt; 1 MB)</th><th>Partitioned by</th></tr>\
         </thead><tbody>",
    );
    for schema in catalog.schema_names() {
        for table in catalog.table_names(&schema) {
            let table_ref = TableRef {
                schema: schema.clone(),
                table,
            };
            let row = match catalog.load(&table_ref).await {
                Ok(loaded) => match Facts::of(&loaded) {
                    Some(f) => format!(
                        "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                         <td class=\"num\">{}</td><td>{}</td>",
                        f.version,
                        f.sizes.len(),
                        human_bytes(f.sizes.iter().sum()),
                        f.sizes.iter().filter(|s| **s < SIZE_BUCKETS[0].0).count(),
                        escape(&f.partition_columns.join(", "))
                    ),
                    None => "<td colspan=\"5\"><em>no snapshot</em></td>".into(),
                },
                Err(e) => format!(
                    "<td colspan=\"5\" class=\"error\"><code>{}</code> {}</td>",
                    e.sqlstate(),
                    escape(&e.message)
                ),
            };
            let _ = write!(body, "<tr><td>{}</td>{row}</tr>", table_link(&table_ref));
        }
    }
    body.push_str("</tbody></table>");
    layout("Tables", &body)
}

/// What the pages show of a table's current snapshot.
struct Facts {
    version: i64,
    sizes: Vec<u64>,
    partition_columns: Vec<String>,
    /// Files per partition (`col=value/...`), for partitioned tables.
    partitions: BTreeMap<String, (usize, u64)>,
}

impl Facts {
    fn of(table: &DeltaTable) -> Option<Self> {
        let snapshot = table.snapshot().ok()?;
        let partition_columns: Vec<String> = snapshot.metadata().partition_columns().to_vec();
        // Partition values are keyed by the columns' names in the files.
        let physical: Vec<String> = partition_columns
            .iter()
            .map(|c| crate::delta::physical_name(table, c))
            .collect();
        let mut sizes = Vec::new();
        let mut partitions = BTreeMap::new();
        for file in snapshot.log_data().iter() {
            let size = file.size().max(0) as u64;
            sizes.push(size);
            if !partition_columns.is_empty() {
                let values = file.partition_values_map();
                let key = partition_columns
                    .iter()
                    .zip(&physical)
                    .map(|(c, p)| {
                        format!(
                            "{c}={}",
                            values
                                .get(p)
                                .cloned()
                                .flatten()
                                .unwrap_or_else(|| "NULL".into())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                let entry = partitions.entry(key).or_insert((0, 0));
                entry.0 += 1;
                entry.1 += size;
            }
        }
        Some(Self {
            version: table.version().unwrap_or_default() as i64,
            sizes,
            partition_columns,
            partitions,
        })
    }
}

/// One table's page; None when the catalog has no such table.
pub async fn page(engine: &Engine, schema: &str, table: &str) -> Option<String> {
    let table_ref = TableRef {
        schema: schema.to_string(),
        table: table.to_string(),
    };
    if !engine.catalog().table_exists(&table_ref) {
        return None;
    }
    let title = format!("{schema}.{table}");
    let loaded = match engine.catalog().load(&table_ref).await {
        Ok(t) => t,
        Err(e) => {
            return Some(layout(
                &title,
                &format!(
                    "<h1>{}</h1><p class=\"error\"><code>{}</code> {}</p>",
                    escape(&title),
                    e.sqlstate(),
                    escape(&e.message)
                ),
            ));
        }
    };
    let facts = Facts::of(&loaded)?;
    let commits: Vec<CommitInfo> = loaded
        .history(Some(HISTORY_SHOWN))
        .try_collect()
        .await
        .unwrap_or_default();
    let mut body = format!("<h1>{}</h1>", escape(&title));
    let last = |pred: &dyn Fn(&str) -> bool| {
        commits
            .iter()
            .enumerate()
            .find(|(_, c)| c.operation.as_deref().is_some_and(pred))
            .map(|(i, c)| {
                format!(
                    "version {} at {}",
                    facts.version - i as i64,
                    when(c.timestamp)
                )
            })
            .unwrap_or_else(|| format!("none in the last {HISTORY_SHOWN} commits"))
    };
    let zorder = commits
        .iter()
        .find(|c| c.operation.as_deref() == Some("OPTIMIZE"))
        .and_then(zorder_columns)
        .unwrap_or_else(|| "none".into());
    let total: u64 = facts.sizes.iter().sum();
    let _ = write!(
        body,
        "<table class=\"facts\"><tr><th>Version</th><td id=\"version\">{}</td></tr>\
         <tr><th>Files</th><td id=\"files\">{}</td></tr><tr><th>Size</th><td>{}</td></tr>\
         <tr><th>Partitioned by</th><td>{}</td></tr><tr><th>Last OPTIMIZE</th><td>{}</td></tr>\
         <tr><th>Z-order columns</th><td id=\"zorder\">{}</td></tr>\
         <tr><th>Last VACUUM</th><td>{}</td></tr></table>",
        facts.version,
        facts.sizes.len(),
        human_bytes(total),
        escape(&facts.partition_columns.join(", ")),
        last(&|op| op == "OPTIMIZE"),
        escape(&zorder),
        last(&|op| op.starts_with("VACUUM")),
    );
    body.push_str(&size_histogram(&facts.sizes));
    if !facts.partitions.is_empty() {
        body.push_str(
            "<h2>Partitions</h2><table class=\"partitions-table\"><thead><tr><th>Partition</th>\
             <th>Files</th><th>Size</th></tr></thead><tbody>",
        );
        for (key, (files, bytes)) in facts.partitions.iter().take(200) {
            let _ = write!(
                body,
                "<tr><td><code>{}</code></td><td class=\"num\">{files}</td><td class=\"num\">{}</td></tr>",
                escape(key),
                human_bytes(*bytes)
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str(
        "<h2>History</h2><table class=\"history\"><thead><tr><th>Version</th><th>Time</th>\
         <th>Operation</th><th>Parameters</th><th>Metrics</th></tr></thead><tbody>",
    );
    for (i, c) in commits.iter().enumerate() {
        let parameters = c
            .operation_parameters
            .as_ref()
            .map(|p| serde_json::to_string(p).unwrap_or_default())
            .unwrap_or_default();
        let metrics = c
            .info
            .get("operationMetrics")
            .map(|m| m.to_string())
            .unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td>\
             <td><code>{}</code></td></tr>",
            facts.version - i as i64,
            when(c.timestamp),
            escape(c.operation.as_deref().unwrap_or("")),
            escape(&parameters),
            escape(&metrics)
        );
    }
    body.push_str("</tbody></table>");
    Some(layout(&title, &body))
}

/// The columns an OPTIMIZE z-ordered by: Spark's `zOrderBy` parameter, or ours in the commit's
/// own `zOrderBy` field.
fn zorder_columns(commit: &CommitInfo) -> Option<String> {
    let value = commit
        .operation_parameters
        .as_ref()
        .and_then(|p| p.get("zOrderBy"))
        .or_else(|| commit.info.get("zOrderBy"))?;
    let columns: Vec<String> = match value {
        serde_json::Value::String(s) => serde_json::from_str(s).ok()?,
        other => serde_json::from_value(other.clone()).ok()?,
    };
    (!columns.is_empty()).then(|| columns.join(", "))
}

fn when(millis: Option<i64>) -> String {
    millis
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

/// Files by size as bars: many files in the first bar means small files to compact.
fn size_histogram(sizes: &[u64]) -> String {
    let mut counts = [0usize; SIZE_BUCKETS.len() + 1];
    for size in sizes {
        let bucket = SIZE_BUCKETS
            .iter()
            .position(|(bound, _)| size < bound)
            .unwrap_or(SIZE_BUCKETS.len());
        counts[bucket] += 1;
    }
    let most = counts.iter().copied().max().unwrap_or(0).max(1);
    let mut out = String::from("<h2>File sizes</h2><div class=\"histogram\" id=\"file-sizes\">");
    for (i, count) in counts.iter().enumerate() {
        let label = SIZE_BUCKETS.get(i).map_or("≥ 512 MB", |(_, l)| l);
        let _ = write!(
            out,
            "<div class=\"column\"><div class=\"count\">{count}</div><div class=\"bar{}\" \
             data-files=\"{count}\" style=\"height:{:.1}%\"></div><div class=\"label\">{label}</div></div>",
            if i == 0 && *count > 0 { " small" } else { "" },
            100.0 * *count as f64 / most as f64,
        );
    }
    out.push_str("</div>");
    out
}
