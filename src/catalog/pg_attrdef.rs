//! Generated columns in the catalog: a `pg_attrdef` row per generated column, whose `adbin` is
//! the column's expression as the Delta table stores it (`delta.generationExpression`), and a
//! `pg_get_expr` that gives that text back. psql `\d` then prints `generated always as (a * 2)
//! stored` as it does for PostgreSQL's own generated columns, and drivers that join
//! `pg_attrdef` (pgjdbc's `getColumns`) see the expression (the library's `pg_attrdef` is empty
//! and its `pg_get_expr` answers the empty text for everything).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::{
    ArrayRef, AsArray, Int16Array, Int32Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Int16Type, Int32Type, SchemaRef};
use datafusion::catalog::{CatalogProviderList, Session, TableProvider};
use datafusion::common::cast::as_string_array;
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};
use datafusion::physical_plan::ExecutionPlan;

use super::pg_tables::{column_modifiers, lines_up};

/// A generated column's expression, from its field's Delta metadata.
pub(super) fn generation_expression(field: &Field) -> Option<String> {
    crate::delta::field_metadata_text(field, crate::delta::GENERATION_EXPRESSION)
}

/// A column's DEFAULT expression, from its field's Delta metadata (Spark's `CURRENT_DEFAULT`),
/// a constant with the column's type as PostgreSQL shows it (`'new'::text`, `'-5'::integer`:
/// the constant was read as the column's type when declared).
pub(super) fn column_default(field: &Field) -> Option<String> {
    use sqlparser::ast::{Expr, UnaryOperator, Value};
    let text = crate::delta::field_metadata_text(field, crate::delta::CURRENT_DEFAULT)?;
    let parsed = sqlparser::parser::Parser::new(&sqlparser::dialect::GenericDialect {})
        .try_with_sql(&text)
        .and_then(|mut parser| parser.parse_expr());
    let type_name = super::pg::format_type_name(field);
    Some(match parsed {
        Ok(Expr::Value(v)) if matches!(v.value, Value::SingleQuotedString(_)) => {
            format!("{text}::{type_name}")
        }
        Ok(Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        }) if matches!(expr.as_ref(), Expr::Value(v) if matches!(v.value, Value::Number(..))) => {
            format!("'-{expr}'::{type_name}")
        }
        _ => text,
    })
}

/// `pg_attrdef`: one row per generated column and per column with a default of the shared
/// tables.
#[derive(Debug)]
pub(super) struct ColumnDefaults {
    /// The library's `pg_attribute`, whose rows give each column's table OID and number.
    attributes: Arc<dyn TableProvider>,
    /// `pg_attrdef`'s columns (`oid`, `adrelid`, `adnum`, `adbin`).
    schema: SchemaRef,
    /// The catalogs the library's `pg_attribute` walks.
    catalogs: Arc<dyn CatalogProviderList>,
}

impl ColumnDefaults {
    /// `pg_attrdef` of the tables `attributes` lists.
    pub(super) fn new(
        attributes: Arc<dyn TableProvider>,
        schema: SchemaRef,
        catalogs: Arc<dyn CatalogProviderList>,
    ) -> Self {
        Self {
            attributes,
            schema,
            catalogs,
        }
    }

    /// The rows: (adrelid, adnum, adbin) of each generated column and column default.
    async fn rows(&self, state: &dyn Session) -> Result<Vec<(i32, i16, String)>> {
        let batch = super::descriptions::read_whole(self.attributes.as_ref(), state).await?;
        let facts = column_modifiers(self.catalogs.as_ref()).await?;
        let schema = batch.schema();
        let (Ok(relation_index), Ok(number_index)) =
            (schema.index_of("attrelid"), schema.index_of("attnum"))
        else {
            return Ok(Vec::new());
        };
        if !lines_up(&batch, &facts) {
            return Ok(Vec::new());
        }
        let relations =
            datafusion::arrow::compute::cast(batch.column(relation_index), &DataType::Int32)?;
        let numbers =
            datafusion::arrow::compute::cast(batch.column(number_index), &DataType::Int16)?;
        let relations = relations.as_primitive::<Int32Type>();
        let numbers = numbers.as_primitive::<Int16Type>();
        Ok(facts
            .iter()
            .enumerate()
            .filter_map(|(row, facts)| {
                let expression = facts.generated.clone().or_else(|| facts.default.clone())?;
                Some((relations.value(row), numbers.value(row), expression))
            })
            .collect())
    }
}

/// The first OID of `pg_attrdef` rows (nothing joins on them; distinct from table OIDs).
const ATTRDEF_OID_BASE: i32 = 1 << 29;

#[async_trait]
impl TableProvider for ColumnDefaults {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
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
        let rows = self.rows(state).await?;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.schema.fields().len());
        for field in self.schema.fields() {
            let column: ArrayRef = match field.name().as_str() {
                "oid" => Arc::new(Int32Array::from_iter_values(
                    (0..rows.len() as i32).map(|i| ATTRDEF_OID_BASE + i),
                )),
                "adrelid" => Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.0))),
                "adnum" => Arc::new(Int16Array::from_iter_values(rows.iter().map(|r| r.1))),
                _ => Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.2))),
            };
            columns.push(datafusion::arrow::compute::cast(
                &column,
                field.data_type(),
            )?);
        }
        let batch = RecordBatch::try_new(self.schema.clone(), columns)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            self.schema.clone(),
            projection.cloned(),
        )?)
    }
}

/// `pg_get_expr(text, oid [, pretty])`: the expression text our catalog rows hold (the `adbin`
/// of generated columns and defaults). The rows of PostgreSQL's own catalog that the library ships hold node
/// trees (`{OPEXPR ...}`) nobody here can print: those give the empty text, as the library's.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgGetExpr {
    signature: Signature,
}

impl PgGetExpr {
    /// The function, to register over the library's.
    pub fn new() -> Self {
        Self {
            signature: Signature::variadic_any(Volatility::Stable),
        }
    }
}

impl Default for PgGetExpr {
    fn default() -> Self {
        Self::new()
    }
}

impl ScalarUDFImpl for PgGetExpr {
    fn name(&self) -> &str {
        "pg_get_expr"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(first) = args.args.first() else {
            return datafusion::common::plan_err!("pg_get_expr needs an expression argument");
        };
        let texts = first.to_array(args.number_rows)?;
        let texts = datafusion::arrow::compute::cast(&texts, &DataType::Utf8)?;
        let texts = as_string_array(&texts)?;
        let out: StringArray = texts
            .iter()
            .map(|text| text.map(|t| if t.starts_with('{') { "" } else { t }))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_expression_is_read_back_as_written() {
        let plain = Field::new("b", DataType::Int32, true).with_metadata(
            [(
                crate::delta::GENERATION_EXPRESSION.to_string(),
                "a * 2".to_string(),
            )]
            .into(),
        );
        assert_eq!(generation_expression(&plain).as_deref(), Some("a * 2"));
        let quoted = Field::new("b", DataType::Int32, true).with_metadata(
            [(
                crate::delta::GENERATION_EXPRESSION.to_string(),
                "\"upper(x)\"".to_string(),
            )]
            .into(),
        );
        assert_eq!(generation_expression(&quoted).as_deref(), Some("upper(x)"));
        let none = Field::new("b", DataType::Int32, true);
        assert_eq!(generation_expression(&none), None);
    }
}
