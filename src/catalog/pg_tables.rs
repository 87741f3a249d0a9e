//! Our corrections and additions to `datafusion-pg-catalog`'s `pg_catalog` schema: the tables it
//! builds are kept, `pg_attribute` gets real type modifiers (it reports -1 for every column, so
//! JDBC and psql show `numeric` for a `DECIMAL(12,2)`), and `pg_user` (pgAdmin, psql `\du` on old
//! servers) is a view of `pg_roles`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{CatalogProviderList, SchemaProvider, Session, TableProvider};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::{TableType, ViewTable, provider_as_source};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use datafusion::physical_plan::{ExecutionPlan, collect};

use super::pg::type_modifier;

/// The `pg_catalog` schema with our changes on top of the library's.
#[derive(Debug)]
pub struct PgCatalogSchema {
    inner: Arc<dyn SchemaProvider>,
    catalogs: Arc<dyn CatalogProviderList>,
}

impl PgCatalogSchema {
    /// Wraps the library's schema; `catalogs` is the list its tables enumerate.
    pub fn new(inner: Arc<dyn SchemaProvider>, catalogs: Arc<dyn CatalogProviderList>) -> Self {
        Self { inner, catalogs }
    }

    fn pg_user(&self, pg_roles: Arc<dyn TableProvider>) -> Result<Arc<dyn TableProvider>> {
        let plan = LogicalPlanBuilder::scan("pg_roles", provider_as_source(pg_roles), None)?
            .project(vec![
                col("rolname").alias("usename"),
                col("oid").alias("usesysid"),
                col("rolcreatedb").alias("usecreatedb"),
                col("rolsuper").alias("usesuper"),
                col("rolreplication").alias("userepl"),
                col("rolbypassrls").alias("usebypassrls"),
                lit("********").alias("passwd"),
                col("rolvaliduntil").alias("valuntil"),
                col("rolconfig").alias("useconfig"),
            ])?
            .build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}

#[async_trait]
impl SchemaProvider for PgCatalogSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.push("pg_user".into());
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        match name {
            "pg_attribute" => Ok(self.inner.table(name).await?.map(|inner| {
                Arc::new(AttributeTypeModifiers {
                    inner,
                    catalogs: self.catalogs.clone(),
                }) as Arc<dyn TableProvider>
            })),
            "pg_user" => match self.inner.table("pg_roles").await? {
                Some(roles) => Ok(Some(self.pg_user(roles)?)),
                None => Ok(None),
            },
            _ => self.inner.table(name).await,
        }
    }

    fn table_exist(&self, name: &str) -> bool {
        name == "pg_user" || self.inner.table_exist(name)
    }
}

/// `pg_attribute` with `atttypmod` filled in from each column's Arrow type.
#[derive(Debug)]
struct AttributeTypeModifiers {
    inner: Arc<dyn TableProvider>,
    catalogs: Arc<dyn CatalogProviderList>,
}

impl AttributeTypeModifiers {
    /// Column names and modifiers in the order the library enumerates them (catalogs, schemas,
    /// tables, fields).
    async fn expected(&self) -> Result<Vec<(String, i32)>> {
        let mut out = Vec::new();
        for catalog_name in self.catalogs.catalog_names() {
            let Some(catalog) = self.catalogs.catalog(&catalog_name) else {
                continue;
            };
            for schema_name in catalog.schema_names() {
                let Some(schema) = catalog.schema(&schema_name) else {
                    continue;
                };
                for table_name in schema.table_names() {
                    if let Some(table) = schema.table(&table_name).await? {
                        for field in table.schema().fields() {
                            out.push((field.name().clone(), type_modifier(field.data_type())));
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The batch with `atttypmod` replaced, when the rows are the columns we enumerated (a table
    /// created in between leaves the batch as it is).
    fn with_modifiers(batch: RecordBatch, expected: &[(String, i32)]) -> Result<RecordBatch> {
        let schema = batch.schema();
        let (Ok(name_index), Ok(modifier_index)) =
            (schema.index_of("attname"), schema.index_of("atttypmod"))
        else {
            return Ok(batch);
        };
        let names = batch.column(name_index).as_string::<i32>();
        let matches = names.len() == expected.len()
            && expected
                .iter()
                .enumerate()
                .all(|(row, (name, _))| names.is_valid(row) && names.value(row) == name);
        if !matches {
            return Ok(batch);
        }
        let modifiers: ArrayRef = Arc::new(Int32Array::from_iter_values(
            expected.iter().map(|(_, modifier)| *modifier),
        ));
        let mut columns = batch.columns().to_vec();
        columns[modifier_index] = modifiers;
        Ok(RecordBatch::try_new(schema, columns)?)
    }
}

#[async_trait]
impl TableProvider for AttributeTypeModifiers {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let plan = self.inner.scan(state, None, &[], None).await?;
        let batches = collect(plan, state.task_ctx()).await?;
        let batch = datafusion::arrow::compute::concat_batches(&self.schema(), &batches)?;
        let batch = Self::with_modifiers(batch, &self.expected().await?)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.schema(),
            projection.cloned(),
        )?)
    }
}
