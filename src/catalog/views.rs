//! Views: a named query kept in the catalog file (no data of its own). Statements that read a
//! view get its query in its place before planning (see `plan::views`), so time travel, hints
//! and PostgreSQL's syntax work inside it as anywhere else; the [`ViewProvider`] here is how
//! the view shows in `pg_class` (relkind `v`), `pg_attribute`, `information_schema` and psql's
//! `\dv` / `\d`, with the columns it had when it was created (as PostgreSQL fixes them).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use serde::{Deserialize, Serialize};

use super::TableRef;
use crate::error::{Error, ErrorKind, Result};

/// One view as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewDef {
    /// The view's schema.
    pub schema: String,
    /// The view's name.
    pub name: String,
    /// The defining query, as SQL text (what `pg_views.definition` shows).
    pub query: String,
    /// The result columns fixed at creation.
    pub columns: Vec<ViewColumn>,
    /// The tables and views the query reads, schema-qualified (for DROP ... CASCADE).
    #[serde(default)]
    pub depends_on: Vec<TableRef>,
}

/// One column of a view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewColumn {
    /// The column name.
    pub name: String,
    /// The Arrow type, in Arrow's own text form (`Int64`, `Timestamp(µs, "UTC")`).
    pub data_type: String,
    /// Whether the column may hold NULL.
    pub nullable: bool,
}

impl ViewDef {
    /// The view's name as a table reference.
    pub fn table_ref(&self) -> TableRef {
        TableRef {
            schema: self.schema.clone(),
            table: self.name.clone(),
        }
    }

    /// The view's columns as an Arrow schema.
    pub fn arrow_schema(&self) -> Result<SchemaRef> {
        let fields = self
            .columns
            .iter()
            .map(|c| {
                let data_type: DataType = c.data_type.parse().map_err(|e| {
                    Error::internal(format!(
                        "view {}.{} has an unreadable column type {:?}: {e}",
                        self.schema, self.name, c.data_type
                    ))
                })?;
                Ok(Field::new(&c.name, data_type, c.nullable))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(Schema::new(fields)))
    }

    /// The columns of `schema` as a view stores them.
    pub fn columns_of(schema: &Schema) -> Vec<ViewColumn> {
        schema
            .fields()
            .iter()
            .map(|f| ViewColumn {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
                nullable: f.is_nullable(),
            })
            .collect()
    }

    /// Checks that this definition may replace `old` (CREATE OR REPLACE VIEW), with
    /// PostgreSQL's rules: the old columns stay, in order, with their names and types; new
    /// columns may only be added at the end.
    pub fn check_replaces(&self, old: &ViewDef) -> Result<()> {
        if self.columns.len() < old.columns.len() {
            return Err(Error::new(
                ErrorKind::InvalidTableDefinition,
                "cannot drop columns from view",
            ));
        }
        for (new, old) in self.columns.iter().zip(&old.columns) {
            if new.name != old.name {
                return Err(Error::new(
                    ErrorKind::InvalidTableDefinition,
                    format!(
                        "cannot change name of view column \"{}\" to \"{}\"",
                        old.name, new.name
                    ),
                )
                .with_hint(
                    "Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.",
                ));
            }
            if new.data_type != old.data_type {
                return Err(Error::new(
                    ErrorKind::InvalidTableDefinition,
                    format!(
                        "cannot change data type of view column \"{}\" from {} to {}",
                        old.name, old.data_type, new.data_type
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A view as DataFusion's catalog sees it: its columns and `TableType::View` (which
/// `pg_class`, `information_schema.tables` and psql read). Statements never scan it: the view's
/// query replaces it before planning, and a scan that gets here is refused.
#[derive(Debug)]
pub struct ViewProvider {
    def: Arc<ViewDef>,
    schema: SchemaRef,
}

impl ViewProvider {
    /// The provider of `def`.
    pub fn new(def: Arc<ViewDef>) -> Result<Self> {
        let schema = def.arrow_schema()?;
        Ok(Self { def, schema })
    }
}

#[async_trait]
impl TableProvider for ViewProvider {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn get_table_definition(&self) -> Option<&str> {
        Some(&self.def.query)
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        _projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        Err(DataFusionError::External(Box::new(Error::unsupported(
            format!(
                "view \"{}\".\"{}\" cannot be read from here; name it in a query's FROM clause",
                self.def.schema, self.def.name
            ),
        ))))
    }
}

/// Every view of `catalogs` as (schema, name, definition), in catalog order: the rows of
/// `pg_views` and `information_schema.views`.
pub(super) async fn listed_views(
    catalogs: &dyn datafusion::catalog::CatalogProviderList,
) -> DfResult<Vec<(String, String, String)>> {
    // Only the catalog's own schemas: the system schemas hold no views, and listing them would
    // build `pg_views` and `information_schema.views` while building them.
    let mut out = Vec::new();
    for catalog_name in catalogs.catalog_names() {
        let Some(catalog) = catalogs.catalog(&catalog_name) else {
            continue;
        };
        for schema_name in catalog.schema_names() {
            if matches!(schema_name.as_str(), "pg_catalog" | "information_schema") {
                continue;
            }
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            for name in schema.table_names() {
                // Asked first: the registry answers it without opening the table.
                if !matches!(schema.table_type(&name).await, Ok(Some(TableType::View))) {
                    continue;
                }
                if let Some(table) =
                    super::unreadable::table_or_unreadable(schema.as_ref(), &name).await?
                    && table.table_type() == TableType::View
                {
                    let definition = table.get_table_definition().unwrap_or_default().to_string();
                    out.push((schema_name.clone(), name, definition));
                }
            }
        }
    }
    Ok(out)
}

/// A table of text columns named `columns`, one row per entry of `rows`.
pub(super) fn text_table(
    columns: &[&str],
    rows: Vec<Vec<Option<String>>>,
) -> DfResult<Arc<dyn TableProvider>> {
    use datafusion::arrow::array::{ArrayRef, StringArray};
    use datafusion::arrow::record_batch::RecordBatch;
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = (0..columns.len())
        .map(|i| {
            Arc::new(StringArray::from(
                rows.iter().map(|r| r[i].clone()).collect::<Vec<_>>(),
            )) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    Ok(Arc::new(datafusion::datasource::MemTable::try_new(
        schema,
        vec![vec![batch]],
    )?))
}
