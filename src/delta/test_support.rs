//! Small Delta tables for the unit tests of this module's state and commit handling: a table
//! partitioned by `day`, one-row appends, its live files and its row counts.

use std::sync::Arc;

use datafusion::arrow::array::{Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use deltalake::DeltaTable;
use url::Url;

/// An empty table `(id BIGINT, day BIGINT) PARTITIONED BY (day)` with `properties`, and its
/// schema (for [`one_row`]).
pub async fn partitioned_table(
    url: &Url,
    properties: &[(&str, &str)],
) -> (DeltaTable, Arc<Schema>) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("day", DataType::Int64, true),
    ]));
    let options = super::CreateOptions {
        name: "t".into(),
        partition_columns: vec!["day".into()],
        properties: properties
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let table = super::create_empty(url.clone(), &schema, &options)
        .await
        .unwrap();
    (table, schema)
}

/// The row `(id, id % 2)`.
pub fn one_row(schema: &Arc<Schema>, id: i64) -> RecordBatch {
    RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(vec![id])),
            Arc::new(Int64Array::from(vec![id % 2])),
        ],
    )
    .unwrap()
}

/// The state's live files, sorted.
pub fn live_files(table: &DeltaTable) -> Vec<String> {
    let mut files: Vec<String> = table
        .snapshot()
        .unwrap()
        .log_data()
        .iter()
        .map(|f| f.path().to_string())
        .collect();
    files.sort();
    files
}

/// `count(*)` and `count(DISTINCT id)` of the table at `url` read afresh.
pub async fn row_counts(url: &Url) -> (i64, i64) {
    let table = deltalake::open_table(url.clone()).await.unwrap();
    let ctx = datafusion::prelude::SessionContext::new();
    ctx.register_table("t", table.table_provider().await.unwrap())
        .unwrap();
    let batches = ctx
        .sql("SELECT count(*), count(DISTINCT id) FROM t")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let value = |i: usize| {
        let column = batches[0].column(i);
        let counts = column.as_any().downcast_ref::<Int64Array>().unwrap();
        assert!(counts.is_valid(0));
        counts.value(0)
    };
    (value(0), value(1))
}
