//! Our corrections and additions to `datafusion-pg-catalog`'s `pg_catalog` schema: the tables it
//! builds are kept, `pg_attribute` gets real type modifiers (it reports -1 for every column, so
//! JDBC and psql show `numeric` for a `DECIMAL(12,2)`), the array columns clients index or search
//! (`pg_constraint.conkey`, `pg_proc.proallargtypes`, ...) are arrays rather than their text
//! rendering, `pg_class` keeps the `relhasoids` and `relacl` columns drivers ask for, and `pg_user`
//! (pgAdmin, psql `\du` on old servers) is a view of `pg_roles`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, ListBuilder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{CatalogProviderList, SchemaProvider, Session, TableProvider};
use datafusion::common::ScalarValue;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::{TableType, ViewTable, provider_as_source};
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, col, lit};
use datafusion::physical_plan::{ExecutionPlan, collect};

use super::identity::role_rows;
use super::pg::field_type_modifier;
use super::pg_settings::settings_rows;

/// The `pg_catalog` schema with our changes on top of the library's.
#[derive(Debug)]
pub struct PgCatalogSchema {
    inner: Arc<dyn SchemaProvider>,
    catalogs: Arc<dyn CatalogProviderList>,
    users: Vec<String>,
    /// The Delta tables' registry (their comments), when `catalogs` holds it.
    delta: Option<Arc<super::DeltaCatalog>>,
}

impl PgCatalogSchema {
    /// Wraps the library's schema; `catalogs` is the list its tables enumerate, `users` the
    /// configured users `pg_roles` lists besides the session's own.
    pub fn new(
        inner: Arc<dyn SchemaProvider>,
        catalogs: Arc<dyn CatalogProviderList>,
        users: Vec<String>,
    ) -> Self {
        let delta = super::provider::shared_delta_catalog(catalogs.as_ref());
        Self {
            inner,
            catalogs,
            users,
            delta,
        }
    }

    /// `pg_description` with the Delta tables' comments (see `descriptions`).
    async fn pg_description(&self) -> Result<Option<Arc<dyn TableProvider>>> {
        let (Some(inner), Some(delta)) = (
            self.inner.table("pg_description").await?,
            self.delta.clone(),
        ) else {
            return self.inner.table("pg_description").await;
        };
        Ok(Some(Arc::new(super::descriptions::Descriptions::new(
            inner,
            self.inner.clone(),
            delta,
        ))))
    }

    async fn pg_roles(&self) -> Result<Option<Arc<dyn TableProvider>>> {
        Ok(self.inner.table("pg_roles").await?.map(|inner| {
            let correction = Correction::Roles(self.users.clone());
            Arc::new(CorrectedTable::new("pg_roles", inner, correction)) as Arc<dyn TableProvider>
        }))
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
                let correction = Correction::TypeModifiers(self.catalogs.clone());
                Arc::new(CorrectedTable::new("pg_attribute", inner, correction))
                    as Arc<dyn TableProvider>
            })),
            "pg_attrdef" => match (
                self.inner.table("pg_attribute").await?,
                self.inner.table(name).await?,
            ) {
                (Some(attributes), Some(inner)) => {
                    Ok(Some(Arc::new(super::pg_attrdef::ColumnDefaults::new(
                        attributes,
                        inner.schema(),
                        self.catalogs.clone(),
                    ))))
                }
                _ => self.inner.table(name).await,
            },
            "pg_constraint" | "pg_proc" | "pg_class" | "pg_index" | "pg_namespace" => {
                Ok(self.inner.table(name).await?.map(|inner| {
                    let added = added_columns(name)
                        .into_iter()
                        .filter(|(field, _)| inner.schema().index_of(field.name()).is_err())
                        .collect();
                    let correction = Correction::Columns {
                        arrays: array_columns(name),
                        added,
                    };
                    Arc::new(CorrectedTable::new(name, inner, correction)) as Arc<dyn TableProvider>
                }))
            }
            "pg_roles" => self.pg_roles().await,
            "pg_description" => self.pg_description().await,
            // The library lists views as tables too; dbt reads a view's kind from whether it
            // is in pg_tables or pg_views, and then drops it with the wrong statement.
            "pg_tables" => Ok(self.inner.table(name).await?.map(|inner| {
                let correction = Correction::ExcludeViews(self.catalogs.clone());
                Arc::new(CorrectedTable::new("pg_tables", inner, correction))
                    as Arc<dyn TableProvider>
            })),
            "pg_views" => {
                let rows = super::views::listed_views(self.catalogs.as_ref())
                    .await?
                    .into_iter()
                    .map(|(schema, name, definition)| {
                        vec![
                            Some(schema),
                            Some(name),
                            Some("postgres".into()),
                            Some(definition),
                        ]
                    })
                    .collect();
                Ok(Some(super::views::text_table(
                    &["schemaname", "viewname", "viewowner", "definition"],
                    rows,
                )?))
            }
            "pg_settings" => Ok(self.inner.table(name).await?.map(|inner| {
                Arc::new(CorrectedTable::new(
                    "pg_settings",
                    inner,
                    Correction::Settings,
                )) as Arc<dyn TableProvider>
            })),
            "pg_user" => match self.pg_roles().await? {
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

/// What [`CorrectedTable`] changes in the library's rows.
#[derive(Debug)]
enum Correction {
    /// `pg_attribute.atttypmod` from each column's Arrow type (the library reports -1), the
    /// columns enumerated from `catalogs` in the library's order.
    TypeModifiers(Arc<dyn CatalogProviderList>),
    /// The configured users and the scanning session's own (the library lists no roles).
    Roles(Vec<String>),
    /// The scanning session's parameters instead of the library's fixed row.
    Settings,
    /// `pg_tables` without the views of `catalogs` (those are `pg_views`' rows).
    ExcludeViews(Arc<dyn CatalogProviderList>),
    /// Text-rendered array columns as arrays, and columns the library lacks, each with its one
    /// value.
    Columns {
        arrays: &'static [(&'static str, DataType)],
        added: Vec<(Field, ScalarValue)>,
    },
}

/// A library catalog table read whole (they are small) and corrected, with the scanning
/// session's temporary tables added (see `temp_rows`).
#[derive(Debug)]
struct CorrectedTable {
    /// The catalog table's name.
    name: String,
    inner: Arc<dyn TableProvider>,
    correction: Correction,
    schema: SchemaRef,
}

impl CorrectedTable {
    fn new(name: &str, inner: Arc<dyn TableProvider>, correction: Correction) -> Self {
        let schema = match &correction {
            Correction::TypeModifiers(_)
            | Correction::Roles(_)
            | Correction::Settings
            | Correction::ExcludeViews(_) => inner.schema(),
            Correction::Columns { arrays, added } => {
                let mut fields: Vec<Field> = inner
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| match arrays.iter().find(|(name, _)| name == f.name()) {
                        Some((_, element)) => Field::new(
                            f.name(),
                            DataType::List(Arc::new(Field::new("item", element.clone(), true))),
                            true,
                        ),
                        None => f.as_ref().clone(),
                    })
                    .collect();
                fields.extend(added.iter().map(|(field, _)| field.clone()));
                Arc::new(Schema::new(fields))
            }
        };
        Self {
            name: name.to_string(),
            inner,
            correction,
            schema,
        }
    }

    /// Array columns parsed from their text and the missing columns added.
    fn correct_columns(
        &self,
        batch: &RecordBatch,
        arrays: &[(&str, DataType)],
        added: &[(Field, ScalarValue)],
    ) -> Result<RecordBatch> {
        let mut columns = Vec::with_capacity(self.schema.fields().len());
        for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
            match arrays.iter().find(|(name, _)| name == field.name()) {
                Some((_, element)) => columns.push(text_to_list(column, element)?),
                None => columns.push(column.clone()),
            }
        }
        for (_, value) in added {
            columns.push(value.to_array_of_size(batch.num_rows())?);
        }
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

#[async_trait]
impl TableProvider for CorrectedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
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
        let mut corrected = match &self.correction {
            // The modifiers line up with the rows as a whole, not batch by batch.
            Correction::TypeModifiers(catalogs) => {
                let batch = datafusion::arrow::compute::concat_batches(&self.schema, &batches)?;
                vec![with_modifiers(
                    batch,
                    &column_modifiers(catalogs.as_ref()).await?,
                )?]
            }
            Correction::Settings => match settings_rows(&self.schema, state)? {
                Some(batch) => vec![batch],
                None => batches,
            },
            Correction::Roles(users) => {
                let mut batches = batches;
                batches.push(role_rows(&self.schema, users, state)?);
                batches
            }
            Correction::ExcludeViews(catalogs) => {
                let views: std::collections::HashSet<(String, String)> =
                    super::views::listed_views(catalogs.as_ref())
                        .await?
                        .into_iter()
                        .map(|(schema, name, _)| (schema, name))
                        .collect();
                batches
                    .iter()
                    .map(|b| without_views(b, &views))
                    .collect::<Result<Vec<_>>>()?
            }
            Correction::Columns { arrays, added } => batches
                .iter()
                .map(|b| self.correct_columns(b, arrays, added))
                .collect::<Result<Vec<_>>>()?,
        };
        if let Some(temp) = super::temp_rows::session_rows(&self.name, &self.schema, state).await? {
            corrected.push(temp);
        }
        Ok(MemorySourceConfig::try_new_exec(
            &[corrected],
            self.schema(),
            projection.cloned(),
        )?)
    }
}

/// The rows of a `pg_tables` batch whose (schemaname, tablename) is not one of `views`.
fn without_views(
    batch: &RecordBatch,
    views: &std::collections::HashSet<(String, String)>,
) -> Result<RecordBatch> {
    let schema = batch.schema();
    let (Ok(schema_index), Ok(name_index)) =
        (schema.index_of("schemaname"), schema.index_of("tablename"))
    else {
        return Ok(batch.clone());
    };
    let schemas = batch.column(schema_index).as_string::<i32>();
    let names = batch.column(name_index).as_string::<i32>();
    let keep: datafusion::arrow::array::BooleanArray = (0..batch.num_rows())
        .map(|row| {
            Some(!views.contains(&(schemas.value(row).to_string(), names.value(row).to_string())))
        })
        .collect();
    Ok(datafusion::arrow::compute::filter_record_batch(
        batch, &keep,
    )?)
}

/// Every table of `catalogs` as (catalog, schema, table name, provider), in the order the
/// catalog library enumerates them (catalogs, schemas, tables).
pub(super) async fn catalog_tables(
    catalogs: &dyn CatalogProviderList,
) -> Result<Vec<(String, String, String, Arc<dyn TableProvider>)>> {
    let mut out = Vec::new();
    for catalog_name in catalogs.catalog_names() {
        let Some(catalog) = catalogs.catalog(&catalog_name) else {
            continue;
        };
        for schema_name in catalog.schema_names() {
            let Some(schema) = catalog.schema(&schema_name) else {
                continue;
            };
            for table_name in schema.table_names() {
                if let Some(table) =
                    super::unreadable::table_or_unreadable(schema.as_ref(), &table_name).await?
                {
                    out.push((catalog_name.clone(), schema_name.clone(), table_name, table));
                }
            }
        }
    }
    Ok(out)
}

/// Column names and modifiers in the order the library enumerates them for `pg_attribute`.
pub(super) async fn column_modifiers(
    catalogs: &dyn CatalogProviderList,
) -> Result<Vec<ColumnFacts>> {
    Ok(catalog_tables(catalogs)
        .await?
        .iter()
        .flat_map(|(_, _, _, table)| {
            table
                .schema()
                .fields()
                .iter()
                .map(|field| ColumnFacts {
                    name: field.name().clone(),
                    modifier: field_type_modifier(field),
                    type_oid: super::pg::field_wire_type(field).oid(),
                    identity: match crate::delta::IdentityColumn::from_arrow_field(field) {
                        Some(identity) if identity.always => "a",
                        Some(_) => "d",
                        None => "",
                    },
                    generated: super::pg_attrdef::generation_expression(field),
                    default: super::pg_attrdef::column_default(field),
                })
                .collect::<Vec<_>>()
        })
        .collect())
}

/// What `pg_attribute` says of a column that the library does not know.
pub(super) struct ColumnFacts {
    /// `attname`.
    pub name: String,
    /// `atttypmod`.
    modifier: i32,
    /// `atttypid`.
    type_oid: u32,
    /// `attidentity`: `a` (GENERATED ALWAYS), `d` (BY DEFAULT) or empty (psql `\d` shows it).
    identity: &'static str,
    /// The expression of a generated column (`attgenerated` `s`, `atthasdef`, and its
    /// `pg_attrdef` row).
    pub generated: Option<String>,
    /// A column's DEFAULT expression (`atthasdef` and its `pg_attrdef` row).
    pub default: Option<String>,
}

/// Whether the rows of a `pg_attribute` batch are the columns `expected` lists, in order (a
/// table created between the library's walk and ours makes them differ).
pub(super) fn lines_up(batch: &RecordBatch, expected: &[ColumnFacts]) -> bool {
    let Ok(name_index) = batch.schema().index_of("attname") else {
        return false;
    };
    let names = batch.column(name_index).as_string::<i32>();
    names.len() == expected.len()
        && expected
            .iter()
            .enumerate()
            .all(|(row, facts)| names.is_valid(row) && names.value(row) == facts.name)
}

/// `pg_attribute` with `atttypmod`, `atttypid`, `attidentity`, `attgenerated` and `atthasdef`
/// replaced (the library lists every type it has no row for, arrays and records among them, as
/// text, and no identity or generated columns), when its rows are the columns we enumerated (a
/// table created in between leaves the batch as it is).
fn with_modifiers(batch: RecordBatch, expected: &[ColumnFacts]) -> Result<RecordBatch> {
    let schema = batch.schema();
    let (Ok(modifier_index), Ok(type_index)) =
        (schema.index_of("atttypmod"), schema.index_of("atttypid"))
    else {
        return Ok(batch);
    };
    if !lines_up(&batch, expected) {
        return Ok(batch);
    }
    let modifiers: ArrayRef = Arc::new(Int32Array::from_iter_values(
        expected.iter().map(|facts| facts.modifier),
    ));
    let types = datafusion::arrow::compute::cast(
        &(Arc::new(datafusion::arrow::array::UInt32Array::from_iter_values(
            expected.iter().map(|facts| facts.type_oid),
        )) as ArrayRef),
        schema.field(type_index).data_type(),
    )?;
    let mut columns = batch.columns().to_vec();
    columns[modifier_index] = modifiers;
    columns[type_index] = types;
    if let Ok(identity_index) = schema.index_of("attidentity") {
        columns[identity_index] = datafusion::arrow::compute::cast(
            &(Arc::new(datafusion::arrow::array::StringArray::from_iter_values(
                expected.iter().map(|facts| facts.identity),
            )) as ArrayRef),
            schema.field(identity_index).data_type(),
        )?;
    }
    if let Ok(generated_index) = schema.index_of("attgenerated") {
        columns[generated_index] = datafusion::arrow::compute::cast(
            &(Arc::new(datafusion::arrow::array::StringArray::from_iter_values(
                expected
                    .iter()
                    .map(|facts| if facts.generated.is_some() { "s" } else { "" }),
            )) as ArrayRef),
            schema.field(generated_index).data_type(),
        )?;
    }
    if let Ok(default_index) = schema.index_of("atthasdef") {
        columns[default_index] = Arc::new(datafusion::arrow::array::BooleanArray::from_iter(
            expected
                .iter()
                .map(|facts| Some(facts.generated.is_some() || facts.default.is_some())),
        ));
    }
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Columns clients read that the library's table lacks, with their value: `pg_class.relhasoids`
/// (older ODBC drivers) and `relacl` (pgjdbc's privilege queries; NULL means the owner's default
/// privileges).
fn added_columns(table: &str) -> Vec<(Field, ScalarValue)> {
    match table {
        "pg_class" => vec![
            (
                Field::new("relhasoids", DataType::Boolean, false),
                ScalarValue::Boolean(Some(false)),
            ),
            (
                Field::new("relacl", DataType::Utf8, true),
                ScalarValue::Utf8(None),
            ),
        ],
        _ => Vec::new(),
    }
}

/// Array columns the library renders as text (`[1, 2]`, `['i', 'o']`), with their element types.
/// (`pg_index.indkey` and the other vectors are subscripted from 0 by clients: the dialect adds
/// 1 to their subscripts, see `dialect::pg_rewrites`.)
fn array_columns(table: &str) -> &'static [(&'static str, DataType)] {
    match table {
        "pg_constraint" => &[
            ("conkey", DataType::Int16),
            ("confkey", DataType::Int16),
            ("conpfeqop", DataType::Int32),
            ("conppeqop", DataType::Int32),
            ("conffeqop", DataType::Int32),
            ("conexclop", DataType::Int32),
        ],
        "pg_index" => &[
            ("indkey", DataType::Int16),
            ("indcollation", DataType::Int32),
            ("indclass", DataType::Int32),
            ("indoption", DataType::Int16),
        ],
        "pg_proc" => &[
            ("proargtypes", DataType::Int32),
            ("proallargtypes", DataType::Int32),
            ("proargmodes", DataType::Utf8),
            ("proargnames", DataType::Utf8),
        ],
        // psql `\dn+`: `array_to_string(nspacl, E'\n')` (NULL: the default privileges).
        "pg_namespace" => &[("nspacl", DataType::Utf8)],
        _ => &[],
    }
}

/// `[1, 2]`, `{1,2}` or `['i', 'o']` as a list of `element`; NULL text as NULL, an item that
/// does not parse as `element` as a NULL item.
fn text_to_list(column: &ArrayRef, element: &DataType) -> Result<ArrayRef> {
    let texts = datafusion::arrow::compute::cast(column, &DataType::Utf8)?;
    let texts = texts.as_string::<i32>();
    let mut builder = ListBuilder::new(StringBuilder::new());
    for text in texts.iter() {
        let Some(text) = text else {
            builder.append(false);
            continue;
        };
        let inner = text
            .trim()
            .trim_start_matches(['[', '{'])
            .trim_end_matches([']', '}']);
        // `[1, 2]` and `['i', 'o']` from the library, `1 2` for vectors.
        for item in inner.split(|c: char| c == ',' || c.is_whitespace()) {
            let item = item.trim().trim_matches(['\'', '"']);
            if !item.is_empty() {
                builder.values().append_value(item);
            }
        }
        builder.append(true);
    }
    let strings: ArrayRef = Arc::new(builder.finish());
    let list = DataType::List(Arc::new(Field::new("item", element.clone(), true)));
    // A safe cast: unparsable items become NULL.
    Ok(datafusion::arrow::compute::cast(&strings, &list)?)
}
