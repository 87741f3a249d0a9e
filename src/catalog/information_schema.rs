//! The `information_schema` PostgreSQL clients read: DataFusion's tables, with `columns` in
//! PostgreSQL's shape and the constraint views added.
//!
//! DataFusion's `columns` names Arrow types (`Int64`, `Utf8View`) and lacks the `udt_*` and
//! identity columns; Grafana's query builder shows `data_type`, Metabase reads `udt_name` and
//! `is_identity`. Metabase also joins `table_constraints` with `key_column_usage` for primary
//! keys. Delta tables have no constraints, so those views are empty, with PostgreSQL's columns.
//!
//! DataFusion answers `information_schema` itself when its `information_schema` option is on;
//! the engine turns the option off and registers this schema in the catalog instead.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, Int32Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::information_schema::{INFORMATION_SCHEMA, InformationSchemaProvider};
use datafusion::catalog::{
    CatalogProviderList, SchemaProvider, Session, TableFunction, TableProvider,
};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::Result;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::pg_tables::catalog_tables;

/// Registers [`InformationSchema`] in our catalog; call after the table functions are registered.
pub fn install_information_schema(
    ctx: &datafusion::prelude::SessionContext,
) -> crate::error::Result<()> {
    let state = ctx.state();
    let schema = InformationSchema::new(
        state.catalog_list().clone(),
        state.table_functions().clone(),
    );
    ctx.catalog(super::CATALOG_NAME)
        .ok_or_else(|| crate::error::Error::internal("the deltagres catalog is not registered"))?
        .register_schema(INFORMATION_SCHEMA, Arc::new(schema))
        .map_err(|e| {
            crate::error::Error::internal(format!("cannot set up information_schema: {e}"))
        })?;
    Ok(())
}

/// Our `information_schema`.
#[derive(Debug)]
pub struct InformationSchema {
    inner: InformationSchemaProvider,
    catalogs: Arc<dyn CatalogProviderList>,
}

impl InformationSchema {
    /// The schema over `catalogs`, listing `table_functions` in `routines`.
    pub fn new(
        catalogs: Arc<dyn CatalogProviderList>,
        table_functions: HashMap<String, Arc<TableFunction>>,
    ) -> Self {
        Self {
            inner: InformationSchemaProvider::new(super::unreadable::TolerantCatalogList::wrap(
                catalogs.clone(),
            ))
            .with_table_functions(table_functions),
            catalogs,
        }
    }
}

/// The constraint views, all empty, with their PostgreSQL columns (all names and text).
const CONSTRAINT_VIEWS: &[(&str, &[&str])] = &[
    (
        "table_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "constraint_type",
            "is_deferrable",
            "initially_deferred",
            "enforced",
            "nulls_distinct",
        ],
    ),
    (
        "key_column_usage",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position",
            "position_in_unique_constraint",
        ],
    ),
    (
        "referential_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
    ),
    (
        "constraint_column_usage",
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
        ],
    ),
];

#[async_trait]
impl SchemaProvider for InformationSchema {
    fn table_names(&self) -> Vec<String> {
        let mut names = self.inner.table_names();
        names.extend(CONSTRAINT_VIEWS.iter().map(|(name, _)| name.to_string()));
        names
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if name == "columns" {
            return Ok(Some(Arc::new(Columns {
                catalogs: self.catalogs.clone(),
                schema: columns_schema(),
            })));
        }
        if name == "views" {
            let rows = super::views::listed_views(self.catalogs.as_ref())
                .await?
                .into_iter()
                .map(|(schema, name, definition)| {
                    let no = Some("NO".to_string());
                    vec![
                        Some(super::CATALOG_NAME.to_string()),
                        Some(schema),
                        Some(name),
                        Some(definition),
                        Some("NONE".to_string()),
                        no.clone(),
                        no.clone(),
                        no.clone(),
                        no.clone(),
                        no,
                    ]
                })
                .collect();
            return Ok(Some(super::views::text_table(
                &[
                    "table_catalog",
                    "table_schema",
                    "table_name",
                    "view_definition",
                    "check_option",
                    "is_updatable",
                    "is_insertable_into",
                    "is_trigger_updatable",
                    "is_trigger_deletable",
                    "is_trigger_insertable_into",
                ],
                rows,
            )?));
        }
        if let Some((_, columns)) = CONSTRAINT_VIEWS.iter().find(|(view, _)| *view == name) {
            let fields: Vec<Field> = columns
                .iter()
                .map(|c| {
                    let data_type = if c.contains("position") {
                        DataType::Int32
                    } else {
                        DataType::Utf8
                    };
                    Field::new(*c, data_type, true)
                })
                .collect();
            let table = MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]])?;
            return Ok(Some(Arc::new(table)));
        }
        self.inner.table(name).await
    }

    fn table_exist(&self, name: &str) -> bool {
        name == "columns"
            || CONSTRAINT_VIEWS.iter().any(|(view, _)| *view == name)
            || self.inner.table_exist(name)
    }
}

/// `information_schema.columns`, built from the catalogs when scanned.
#[derive(Debug)]
struct Columns {
    catalogs: Arc<dyn CatalogProviderList>,
    schema: SchemaRef,
}

/// PostgreSQL's columns of `information_schema.columns`, in its order; the `cardinal_number`
/// ones are integers, the rest text.
const COLUMN_NAMES: &[&str] = &[
    "table_catalog",
    "table_schema",
    "table_name",
    "column_name",
    "ordinal_position",
    "column_default",
    "is_nullable",
    "data_type",
    "character_maximum_length",
    "character_octet_length",
    "numeric_precision",
    "numeric_precision_radix",
    "numeric_scale",
    "datetime_precision",
    "interval_type",
    "interval_precision",
    "character_set_catalog",
    "character_set_schema",
    "character_set_name",
    "collation_catalog",
    "collation_schema",
    "collation_name",
    "domain_catalog",
    "domain_schema",
    "domain_name",
    "udt_catalog",
    "udt_schema",
    "udt_name",
    "scope_catalog",
    "scope_schema",
    "scope_name",
    "maximum_cardinality",
    "dtd_identifier",
    "is_self_referencing",
    "is_identity",
    "identity_generation",
    "identity_start",
    "identity_increment",
    "identity_maximum",
    "identity_minimum",
    "identity_cycle",
    "is_generated",
    "generation_expression",
    "is_updatable",
];

fn is_cardinal(column: &str) -> bool {
    matches!(
        column,
        "ordinal_position"
            | "character_maximum_length"
            | "character_octet_length"
            | "numeric_precision"
            | "numeric_precision_radix"
            | "numeric_scale"
            | "datetime_precision"
            | "interval_precision"
            | "maximum_cardinality"
    )
}

fn columns_schema() -> SchemaRef {
    Arc::new(Schema::new(
        COLUMN_NAMES
            .iter()
            .map(|c| {
                let data_type = if is_cardinal(c) {
                    DataType::Int32
                } else {
                    DataType::Utf8
                };
                Field::new(*c, data_type, true)
            })
            .collect::<Vec<_>>(),
    ))
}

/// One row of `information_schema.columns`: integer and text values by column name.
#[derive(Default)]
struct ColumnRow {
    numbers: HashMap<&'static str, i32>,
    texts: HashMap<&'static str, String>,
}

impl ColumnRow {
    fn text(&mut self, column: &'static str, value: impl Into<String>) {
        self.texts.insert(column, value.into());
    }
}

/// The row describing `field`, the `position`-th column (from 1) of a table.
fn column_row(
    (catalog, schema, table): (&str, &str, &str),
    table_type: TableType,
    position: usize,
    field: &Field,
) -> ColumnRow {
    let mut row = ColumnRow::default();
    row.text("table_catalog", catalog);
    row.text("table_schema", schema);
    row.text("table_name", table);
    row.text("column_name", field.name().as_str());
    row.numbers.insert(
        "ordinal_position",
        i32::try_from(position).unwrap_or(i32::MAX),
    );
    row.text(
        "is_nullable",
        if field.is_nullable() { "YES" } else { "NO" },
    );
    let udt = super::pg::field_wire_type(field).name().to_string();
    row.text("data_type", sql_type_name(&udt));
    row.text("udt_catalog", catalog);
    row.text("udt_schema", "pg_catalog");
    row.text("udt_name", udt.as_str());
    row.text("dtd_identifier", position.to_string());
    // Text lengths: a varchar(n) / char(n) column's n (4 bytes a character in UTF-8), and the
    // largest text value PostgreSQL stores (1 GB) for text.
    if let Some(char_type) = crate::semantics::CharType::of(field) {
        let length = i32::try_from(char_type.length).unwrap_or(i32::MAX);
        row.numbers.insert("character_maximum_length", length);
        row.numbers
            .insert("character_octet_length", length.saturating_mul(4));
    } else if udt == "text" {
        row.numbers.insert("character_octet_length", 1 << 30);
    }
    for (column, value) in [
        ("is_self_referencing", "NO"),
        ("is_identity", "NO"),
        ("identity_cycle", "NO"),
        ("is_generated", "NEVER"),
    ] {
        row.text(column, value);
    }
    if let Some(default) = super::pg_attrdef::column_default(field) {
        row.text("column_default", default);
    }
    if let Some(expression) = super::pg_attrdef::generation_expression(field) {
        row.text("is_generated", "ALWAYS");
        row.text("generation_expression", expression);
    }
    // A Delta identity column, as PostgreSQL reports one (its sequence's default bounds).
    if let Some(identity) = crate::delta::IdentityColumn::from_arrow_field(field) {
        let (minimum, maximum) = if identity.step > 0 {
            (1, i64::MAX)
        } else {
            (i64::MIN, -1)
        };
        row.text("is_identity", "YES");
        let generation = if identity.always {
            "ALWAYS"
        } else {
            "BY DEFAULT"
        };
        row.text("identity_generation", generation);
        row.text("identity_start", identity.start.to_string());
        row.text("identity_increment", identity.step.to_string());
        row.text("identity_maximum", maximum.to_string());
        row.text("identity_minimum", minimum.to_string());
    }
    let updatable = matches!(table_type, TableType::Base);
    row.text("is_updatable", if updatable { "YES" } else { "NO" });
    let numeric = |precision: i32, radix: i32, scale: Option<i32>| {
        [
            ("numeric_precision", Some(precision)),
            ("numeric_precision_radix", Some(radix)),
            ("numeric_scale", scale),
        ]
    };
    let facts = match field.data_type() {
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => numeric(16, 2, Some(0)).to_vec(),
        DataType::Int32 | DataType::UInt16 => numeric(32, 2, Some(0)).to_vec(),
        DataType::Int64 | DataType::UInt32 => numeric(64, 2, Some(0)).to_vec(),
        DataType::Float16 | DataType::Float32 => numeric(24, 2, None).to_vec(),
        DataType::Float64 => numeric(53, 2, None).to_vec(),
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => numeric(i32::from(*p), 10, Some(i32::from(*s))).to_vec(),
        DataType::Date32 | DataType::Date64 => vec![("datetime_precision", Some(0))],
        DataType::Timestamp(..) | DataType::Time32(_) | DataType::Time64(_) => {
            vec![("datetime_precision", Some(6))]
        }
        _ => Vec::new(),
    };
    for (column, value) in facts {
        if let Some(value) = value {
            row.numbers.insert(column, value);
        }
    }
    row
}

/// The SQL-standard name `information_schema` reports for a PostgreSQL type name.
fn sql_type_name(udt: &str) -> String {
    let name = match udt {
        array if array.starts_with('_') => "ARRAY",
        "record" => "USER-DEFINED",
        other => super::pg::sql_name(other),
    };
    name.to_string()
}

impl Columns {
    async fn rows(&self) -> Result<Vec<ColumnRow>> {
        let mut rows = Vec::new();
        for (catalog, schema, name, table) in catalog_tables(self.catalogs.as_ref()).await? {
            if schema == INFORMATION_SCHEMA {
                continue;
            }
            let names = (catalog.as_str(), schema.as_str(), name.as_str());
            for (i, field) in table.schema().fields().iter().enumerate() {
                rows.push(column_row(names, table.table_type(), i + 1, field));
            }
        }
        Ok(rows)
    }

    fn batch(&self, rows: &[ColumnRow]) -> Result<RecordBatch> {
        let columns: Vec<ArrayRef> = COLUMN_NAMES
            .iter()
            .map(|column| -> ArrayRef {
                if is_cardinal(column) {
                    let mut values = Int32Builder::with_capacity(rows.len());
                    for row in rows {
                        values.append_option(row.numbers.get(column).copied());
                    }
                    Arc::new(values.finish())
                } else {
                    let mut values = StringBuilder::new();
                    for row in rows {
                        values.append_option(row.texts.get(column));
                    }
                    Arc::new(values.finish())
                }
            })
            .collect();
        Ok(RecordBatch::try_new(self.schema.clone(), columns)?)
    }
}

#[async_trait]
impl TableProvider for Columns {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let batch = self.batch(&self.rows().await?)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.schema(),
            projection.cloned(),
        )?)
    }
}
