//! A statement's executed plan as an HTML tree: each operator with its actual rows, compute
//! time and spill, and for every repartition and join a bar chart of rows per partition with the
//! busiest partition marked, hot when it is skewed (the figures and rule of EXPLAIN ANALYZE:
//! more than 4x the median and at least 1,000 rows), and its max/mean.
//!
//! Reads the JSON document `plan::executed_plan_json` wrote (EXPLAIN's FORMAT JSON keys).

use std::fmt::Write;

use serde_json::Value;

use super::pages::escape;

/// The plan document as a nested list; None when it is not one.
pub fn plan_tree(document: &str) -> Option<String> {
    let plan: Value = serde_json::from_str(document).ok()?;
    let mut out = String::from("<ul class=\"plan\">");
    node(&plan, &mut out);
    out.push_str("</ul>");
    Some(out)
}

fn node(plan: &Value, out: &mut String) {
    let name = plan["Node Type"].as_str().unwrap_or("?");
    let details = plan["Details"].as_str().unwrap_or("");
    let _ = write!(
        out,
        "<li><div class=\"node\"><b>{}</b> <span class=\"details\">{}</span>",
        escape(name),
        escape(
            details
                .strip_prefix(name)
                .unwrap_or(details)
                .trim_start_matches(':')
                .trim()
        )
    );
    let mut facts = Vec::new();
    if let Some(rows) = plan["Actual Rows"].as_u64() {
        facts.push(format!("rows={rows}"));
    }
    if let Some(ms) = plan["Compute Time"].as_f64() {
        facts.push(format!("compute={ms:.3}ms"));
    }
    if let Some(bytes) = plan["Spilled Bytes"].as_u64() {
        facts.push(format!("spilled={bytes}B"));
    }
    if let Some(bytes) = plan["Bytes Scanned"].as_u64() {
        facts.push(format!("scanned={bytes}B"));
    }
    if let Some(files) = plan["Files Scanned"].as_u64() {
        facts.push(format!("files={files}"));
    }
    if !facts.is_empty() {
        let _ = write!(out, " <span class=\"metrics\">{}</span>", facts.join(" "));
    }
    out.push_str("</div>");
    if let Some(rows) = plan["Partition Rows"].as_array() {
        let rows: Vec<u64> = rows.iter().filter_map(Value::as_u64).collect();
        partition_bars(&rows, plan["Skewed"].as_bool().unwrap_or(false), out);
    }
    if let Some(children) = plan["Plans"].as_array() {
        out.push_str("<ul>");
        for child in children {
            node(child, out);
        }
        out.push_str("</ul>");
    }
    out.push_str("</li>");
}

/// Rows per partition as bars; the busiest partition is `max`, and `hot` when skewed.
fn partition_bars(rows: &[u64], skewed: bool, out: &mut String) {
    let max = rows.iter().copied().max().unwrap_or(0);
    let mean = rows.iter().sum::<u64>() as f64 / rows.len().max(1) as f64;
    let busiest = rows.iter().position(|r| *r == max).unwrap_or(0);
    let ratio = if mean > 0.0 { max as f64 / mean } else { 0.0 };
    let _ = write!(
        out,
        "<div class=\"partitions{}\"><p>rows per partition: {} partitions, max {} (partition {}), \
         max/mean <span class=\"ratio\">{ratio:.2}</span>{}</p><div class=\"bars\">",
        if skewed { " skewed" } else { "" },
        rows.len(),
        max,
        busiest,
        if skewed {
            " <span class=\"skew\">SKEW: the hot partition holds most of the work</span>"
        } else {
            ""
        },
    );
    for (i, r) in rows.iter().enumerate() {
        let height = if max == 0 {
            0.0
        } else {
            100.0 * *r as f64 / max as f64
        };
        let class = match (i == busiest, skewed) {
            (true, true) => "bar max hot",
            (true, false) => "bar max",
            _ => "bar",
        };
        let _ = write!(
            out,
            "<div class=\"{class}\" data-partition=\"{i}\" data-rows=\"{r}\" \
             title=\"partition {i}: {r} rows\" style=\"height:{height:.1}%\"></div>"
        );
    }
    out.push_str("</div></div>");
}

#[cfg(test)]
mod tests {
    use super::plan_tree;

    #[test]
    fn a_skewed_join_marks_its_hot_partition() {
        let doc = r#"{"Node Type":"HashJoinExec","Details":"HashJoinExec: mode=Partitioned","Actual Rows":9000,
            "Partition Rows":[100,6000,120,90],"Skewed":true,
            "Plans":[{"Node Type":"DataSourceExec","Details":"DataSourceExec: <file>","Actual Rows":10}]}"#;
        let html = plan_tree(doc).unwrap();
        assert!(html.contains("class=\"bar max hot\" data-partition=\"1\" data-rows=\"6000\""));
        assert!(html.contains("SKEW"));
        assert!(html.contains("max/mean <span class=\"ratio\">3.80</span>"));
        assert!(html.contains("&lt;file&gt;"));
        assert!(plan_tree("not json").is_none());
    }
}
