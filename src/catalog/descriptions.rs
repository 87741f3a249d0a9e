//! Comments in the catalog: `pg_description` holds the library's rows (PostgreSQL's own objects)
//! and a row per commented table (`objsubid` 0) and column (`objsubid` = its `attnum`), read from
//! the Delta tables (`COMMENT ON`, see `plan::comments`; Spark's `COMMENT` lands in the same
//! places). psql `\dt+` / `\d+` (through `obj_description` / `col_description`, which the dialect
//! plans as PostgreSQL defines them, a lookup in `pg_description`), pgjdbc's `getTables` /
//! `getColumns`, DBeaver and Metabase (joins on `pg_description`) show them.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Int32Type, SchemaRef};
use datafusion::catalog::{SchemaProvider, Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::{ExecutionPlan, collect};

use super::{DeltaCatalog, TableRef};

/// `pg_description` with the Delta tables' comments added to the library's rows.
#[derive(Debug)]
pub(super) struct Descriptions {
    /// The library's `pg_description`.
    inner: Arc<dyn TableProvider>,
    /// The library's `pg_catalog`, whose `pg_class` and `pg_namespace` give each table's OID.
    library: Arc<dyn SchemaProvider>,
    delta: Arc<DeltaCatalog>,
}

impl Descriptions {
    /// `pg_description` over the library's `inner`, with the comments of `delta`'s tables.
    pub(super) fn new(
        inner: Arc<dyn TableProvider>,
        library: Arc<dyn SchemaProvider>,
        delta: Arc<DeltaCatalog>,
    ) -> Self {
        Self {
            inner,
            library,
            delta,
        }
    }

    /// (objoid, classoid, objsubid, description) of each commented table and column. A table
    /// that cannot be opened has no rows (its own queries say why).
    async fn rows(&self, state: &dyn Session) -> Result<Vec<(i32, i32, i32, String)>> {
        let oids = relation_oids(self.library.as_ref(), state).await?;
        let class_oid = oids
            .get(&("pg_catalog".to_string(), "pg_class".to_string()))
            .copied()
            .unwrap_or(PG_CLASS_OID);
        let mut rows = Vec::new();
        for schema in self.delta.schema_names() {
            for name in self.delta.table_names(&schema) {
                let Some(&oid) = oids.get(&(schema.clone(), name.clone())) else {
                    continue;
                };
                let table_ref = TableRef {
                    schema: schema.clone(),
                    table: name,
                };
                let (Ok(table), Ok(provider)) = (
                    self.delta.load(&table_ref).await,
                    self.delta.read_provider(&table_ref).await,
                ) else {
                    continue;
                };
                if let Some(description) = table
                    .snapshot()
                    .ok()
                    .and_then(|s| s.metadata().description().map(str::to_string))
                {
                    rows.push((oid, class_oid, 0, description));
                }
                // Numbered as the library numbers `pg_attribute`: the provider's column order.
                for (index, field) in provider.schema().fields().iter().enumerate() {
                    if let Some(comment) = crate::delta::column_comment(field) {
                        rows.push((oid, class_oid, index as i32 + 1, comment));
                    }
                }
            }
        }
        Ok(rows)
    }
}

/// PostgreSQL's OID of `pg_class`, for a catalog whose own `pg_class` row is missing.
const PG_CLASS_OID: i32 = 1259;

/// Each relation's OID by (schema, name), from the library's `pg_class` and `pg_namespace`.
pub(super) async fn relation_oids(
    library: &dyn SchemaProvider,
    state: &dyn Session,
) -> Result<HashMap<(String, String), i32>> {
    let Some(classes) = library.table("pg_class").await? else {
        return Ok(HashMap::new());
    };
    let namespace_names = namespace_names(library, state).await?;
    Ok(
        named_rows(classes.as_ref(), "relname", ["oid", "relnamespace"], state)
            .await?
            .into_iter()
            .filter_map(|(name, [oid, space])| {
                Some(((namespace_names.get(&space)?.clone(), name), oid))
            })
            .collect(),
    )
}

/// Each schema's name by its OID, from the library's `pg_namespace`.
pub(super) async fn namespace_names(
    library: &dyn SchemaProvider,
    state: &dyn Session,
) -> Result<HashMap<i32, String>> {
    let Some(namespaces) = library.table("pg_namespace").await? else {
        return Ok(HashMap::new());
    };
    Ok(named_rows(namespaces.as_ref(), "nspname", ["oid"], state)
        .await?
        .into_iter()
        .map(|(name, [oid])| (oid, name))
        .collect())
}

/// Each row's text column `name` with its integer columns `numbers`, skipping rows where one
/// of them is NULL.
async fn named_rows<const N: usize>(
    table: &dyn TableProvider,
    name: &str,
    numbers: [&str; N],
    state: &dyn Session,
) -> Result<Vec<(String, [i32; N])>> {
    let batch = read_whole(table, state).await?;
    let schema = batch.schema();
    let column = |column: &str, to: &DataType| -> Result<ArrayRef> {
        Ok(datafusion::arrow::compute::cast(
            batch.column(schema.index_of(column)?),
            to,
        )?)
    };
    let names = column(name, &DataType::Utf8)?;
    let names = names.as_string::<i32>();
    let numbers = numbers
        .map(|number| column(number, &DataType::Int32))
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let numbers: Vec<_> = numbers
        .iter()
        .map(|n| n.as_primitive::<Int32Type>())
        .collect();
    Ok((0..batch.num_rows())
        .filter(|&row| names.is_valid(row) && numbers.iter().all(|n| n.is_valid(row)))
        .map(|row| {
            let values = std::array::from_fn(|i| numbers[i].value(row));
            (names.value(row).to_string(), values)
        })
        .collect())
}

/// A catalog table's rows as one batch.
pub(super) async fn read_whole(
    table: &dyn TableProvider,
    state: &dyn Session,
) -> Result<RecordBatch> {
    let plan = table.scan(state, None, &[], None).await?;
    let batches = collect(plan, state.task_ctx()).await?;
    Ok(datafusion::arrow::compute::concat_batches(
        &table.schema(),
        &batches,
    )?)
}

#[async_trait]
impl TableProvider for Descriptions {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let schema = self.inner.schema();
        let library = read_whole(self.inner.as_ref(), state).await?;
        let rows = self.rows(state).await?;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            let column: ArrayRef = match field.name().as_str() {
                "objoid" => Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.0))),
                "classoid" => Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.1))),
                "objsubid" => Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.2))),
                _ => Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.3))),
            };
            columns.push(datafusion::arrow::compute::cast(
                &column,
                field.data_type(),
            )?);
        }
        let ours = RecordBatch::try_new(schema.clone(), columns)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![library, ours]],
            schema,
            projection.cloned(),
        )?)
    }
}
