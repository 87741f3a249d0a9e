//! Identity columns (`GENERATED ALWAYS | BY DEFAULT AS IDENTITY`) in the Delta protocol's form,
//! so that Spark, Databricks and deltagres continue one sequence on the same table.
//!
//! A column is an identity column when its schema metadata carries `delta.identity.start`,
//! `delta.identity.step` and `delta.identity.allowExplicitInsert` (false for ALWAYS); the
//! highest value generated so far is `delta.identity.highWaterMark`, updated by the same commit
//! that adds the rows (a concurrent writer's commit then changes the metadata this one read: a
//! conflict, never a duplicate value). The table's protocol lists the `identityColumns` writer
//! feature.
//!
//! delta-rs 1.1.3 writes such tables with everything but the feature itself: its protocol check
//! refuses the table. Writes here go through delta-rs with a copy of the snapshot whose protocol
//! does not list the feature (see [`super::protocol_copy::operable`]); the value generation and the high-water mark
//! are ours ([`super::identity_write`]). The copy is only handed to delta-rs's write builders:
//! the state kept afterwards is always the real one, brought up to date from the log.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::array::{Array, AsArray, Int64Builder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use deltalake::DeltaTable;
use deltalake::kernel::{MetadataValue, Protocol, StructField, StructType};

use crate::error::{Error, ErrorKind, Result};

/// Schema metadata key: the first value of the sequence.
const IDENTITY_START: &str = "delta.identity.start";
/// Schema metadata key: the increment between values (never 0).
const IDENTITY_STEP: &str = "delta.identity.step";
/// Schema metadata key: whether INSERT may give the value (BY DEFAULT) or not (ALWAYS).
const IDENTITY_ALLOW_EXPLICIT_INSERT: &str = "delta.identity.allowExplicitInsert";
/// Schema metadata key: the highest (lowest, for a negative step) value generated so far.
const IDENTITY_HIGH_WATER_MARK: &str = "delta.identity.highWaterMark";
/// The writer feature a table with identity columns lists.
pub(super) const FEATURE: &str = "identityColumns";

/// One identity column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityColumn {
    /// The column's name.
    pub name: String,
    /// `START WITH`.
    pub start: i64,
    /// `INCREMENT BY`.
    pub step: i64,
    /// `GENERATED ALWAYS` (an INSERT may not give the value) rather than `BY DEFAULT`.
    pub always: bool,
    /// The highest value generated so far; none before the first generated value.
    pub high_water_mark: Option<i64>,
}

impl IdentityColumn {
    /// The column as its table's schema declares it, when it is an identity column.
    pub fn from_field(field: &StructField) -> Option<Self> {
        Self::from_metadata(field.name(), |key| field.metadata().get(key).cloned())
    }

    /// The same from an Arrow field of the table's schema (its metadata values as texts), as
    /// the catalog sees the table.
    pub fn from_arrow_field(field: &datafusion::arrow::datatypes::Field) -> Option<Self> {
        Self::from_metadata(field.name(), |key| {
            field
                .metadata()
                .get(key)
                .cloned()
                .map(MetadataValue::String)
        })
    }

    fn from_metadata(name: &str, value: impl Fn(&str) -> Option<MetadataValue>) -> Option<Self> {
        let start = number(&value(IDENTITY_START)?)?;
        let step = number(&value(IDENTITY_STEP)?)?;
        let always = !value(IDENTITY_ALLOW_EXPLICIT_INSERT)
            .as_ref()
            .and_then(boolean)
            .unwrap_or(false);
        let high_water_mark = value(IDENTITY_HIGH_WATER_MARK).as_ref().and_then(number);
        Some(Self {
            name: name.to_string(),
            start,
            step,
            always,
            high_water_mark,
        })
    }

    /// The metadata that declares the column, in the value types Spark reads (numbers and a
    /// boolean, not texts).
    pub fn declaration(&self) -> Vec<(&'static str, MetadataValue)> {
        vec![
            (IDENTITY_START, MetadataValue::Number(self.start)),
            (IDENTITY_STEP, MetadataValue::Number(self.step)),
            (
                IDENTITY_ALLOW_EXPLICIT_INSERT,
                MetadataValue::Boolean(!self.always),
            ),
        ]
    }

    /// The first value the next write generates.
    pub fn next_value(&self) -> Result<i64> {
        match self.high_water_mark {
            None => Ok(self.start),
            Some(mark) => mark.checked_add(self.step).ok_or_else(|| self.exhausted()),
        }
    }

    /// The high-water mark once a write has used `rows` positions from [`Self::next_value`].
    pub fn high_water_mark_after(&self, rows: u64) -> Result<i64> {
        let used = i64::try_from(rows.saturating_sub(1)).map_err(|_| self.exhausted())?;
        self.step
            .checked_mul(used)
            .and_then(|offset| self.next_value().ok()?.checked_add(offset))
            .ok_or_else(|| self.exhausted())
    }

    fn exhausted(&self) -> Error {
        Error::new(
            ErrorKind::NumericValueOutOfRange,
            format!(
                "identity column \"{}\" reached the end of bigint's range",
                self.name
            ),
        )
    }
}

fn number(value: &MetadataValue) -> Option<i64> {
    match value {
        MetadataValue::Number(n) => Some(*n),
        MetadataValue::String(s) => s.parse().ok(),
        MetadataValue::Other(v) => v.as_i64(),
        MetadataValue::Boolean(_) => None,
    }
}

fn boolean(value: &MetadataValue) -> Option<bool> {
    match value {
        MetadataValue::Boolean(b) => Some(*b),
        MetadataValue::String(s) => s.parse().ok(),
        MetadataValue::Other(v) => v.as_bool(),
        MetadataValue::Number(_) => None,
    }
}

/// The identity columns of a schema, in table order.
pub fn schema_identity_columns(schema: &StructType) -> Vec<IdentityColumn> {
    schema
        .fields()
        .filter_map(IdentityColumn::from_field)
        .collect()
}

/// The identity columns of `table` at its loaded version.
pub fn identity_columns(table: &DeltaTable) -> Result<Vec<IdentityColumn>> {
    Ok(schema_identity_columns(&table.snapshot()?.schema()))
}

/// A CREATE TABLE's schema with its identity columns declared in Delta's value types (the
/// column list arrives as Arrow metadata, all texts).
pub fn declare_identity_columns(schema: StructType) -> Result<StructType> {
    let declared: Vec<IdentityColumn> = schema_identity_columns(&schema);
    if declared.is_empty() {
        return Ok(schema);
    }
    let fields: Vec<StructField> = schema
        .fields()
        .map(
            |field| match declared.iter().find(|c| c.name == *field.name()) {
                Some(column) => field.clone().add_metadata(column.declaration()),
                None => field.clone(),
            },
        )
        .collect();
    Ok(StructType::try_new(fields).map_err(deltalake::DeltaTableError::from)?)
}

/// Whether `protocol` lists the identity columns writer feature (by name, or as the legacy
/// writer version 6 that implies it).
pub fn lists_identity_feature(protocol: &Protocol) -> bool {
    match protocol.writer_features() {
        Some(features) => features.iter().any(|f| f.as_ref() == FEATURE),
        None => protocol.min_writer_version() == 6,
    }
}

/// The values one statement generates for its table's identity columns: how many each column
/// took, counted as they are handed out, so the commit records the exact high-water marks (a
/// given value takes none, as a PostgreSQL sequence is not advanced by given values).
#[derive(Debug, Clone, Default)]
pub struct IdentityFill {
    columns: Vec<(IdentityColumn, Arc<AtomicU64>)>,
}

impl IdentityFill {
    /// Each column's high-water mark after this statement, for the columns that generated any.
    pub fn high_water_marks(&self) -> Result<Vec<(String, i64)>> {
        let mut marks = Vec::new();
        for (column, taken) in &self.columns {
            let taken = taken.load(Ordering::SeqCst);
            if taken > 0 {
                marks.push((column.name.clone(), column.high_water_mark_after(taken)?));
            }
        }
        Ok(marks)
    }
}

/// `plan` (rows shaped to the table's columns) with the values of `columns` generated where a
/// row has none, and the count of values each column took. Values are handed out in the order
/// rows reach the write (unique across the plan's partitions; a statement's values are
/// consecutive).
pub fn with_generated_values(
    plan: LogicalPlan,
    columns: &[IdentityColumn],
) -> Result<(LogicalPlan, IdentityFill)> {
    let mut fill = IdentityFill::default();
    if columns.is_empty() {
        return Ok((plan, fill));
    }
    let mut projection = Vec::new();
    for field in plan.schema().fields() {
        let given = Expr::Column(datafusion::common::Column::from_name(field.name().clone()));
        let expr = match columns.iter().find(|c| &c.name == field.name()) {
            None => given,
            Some(column) => {
                let generator = NextValues::counted("deltagres_identity_value", column, &mut fill)?;
                ScalarUDF::new_from_impl(generator)
                    .call(vec![datafusion::logical_expr::cast(given, DataType::Int64)])
                    .alias(field.name())
            }
        };
        projection.push(expr);
    }
    let plan = LogicalPlanBuilder::from(plan)
        .project(projection)?
        .build()?;
    Ok((plan, fill))
}

/// A function of [`value_functions`]: called `name(CAST(NULL AS BIGINT))`, it gives the next
/// value of its column.
pub struct ValueFunction {
    /// The name the statement calls it by (registered in its session state).
    pub name: String,
    /// The function.
    pub function: ScalarUDF,
}

/// Functions that generate the values of `columns` for a statement whose rows delta-rs computes
/// from SQL text (MERGE's INSERT clause), one per column in order, with the count of values they take (a
/// value may be taken for a row the statement does not insert: a gap, as a PostgreSQL sequence
/// leaves one).
pub fn value_functions(columns: &[IdentityColumn]) -> Result<(Vec<ValueFunction>, IdentityFill)> {
    let mut fill = IdentityFill::default();
    let mut functions = Vec::new();
    for (i, column) in columns.iter().enumerate() {
        let name = format!("deltagres_identity_next_{i}");
        let generator = NextValues::counted(&name, column, &mut fill)?;
        functions.push(ValueFunction {
            name,
            function: ScalarUDF::new_from_impl(generator),
        });
    }
    Ok((functions, fill))
}

/// The function that fills an identity column: a row's given value, or the next value of the
/// column's sequence (volatile: each call takes values).
#[derive(Debug)]
struct NextValues {
    /// The name it is called by.
    name: String,
    first: i64,
    step: i64,
    column: String,
    taken: Arc<AtomicU64>,
    signature: Signature,
}

impl NextValues {
    /// The function called `name` that generates `column`'s next values, its count of values
    /// taken recorded in `fill`.
    fn counted(name: &str, column: &IdentityColumn, fill: &mut IdentityFill) -> Result<Self> {
        let taken = Arc::new(AtomicU64::new(0));
        fill.columns.push((column.clone(), taken.clone()));
        Ok(Self {
            name: name.to_string(),
            first: column.next_value()?,
            step: column.step,
            column: column.name.clone(),
            taken,
            signature: Signature::exact(vec![DataType::Int64], Volatility::Volatile),
        })
    }
}

impl PartialEq for NextValues {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.taken, &other.taken)
    }
}

impl Eq for NextValues {}

impl std::hash::Hash for NextValues {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.column.hash(state);
        Arc::as_ptr(&self.taken).hash(state);
    }
}

impl ScalarUDFImpl for NextValues {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        // A NULL literal (an omitted column) arrives as one scalar for the whole batch.
        let given = args.args[0].clone().into_array(args.number_rows)?;
        let given = given.as_primitive::<Int64Type>();
        let missing = given.null_count() as u64;
        let from = self.taken.fetch_add(missing, Ordering::SeqCst);
        let mut next = from;
        let mut values = Int64Builder::with_capacity(given.len());
        for row in 0..given.len() {
            if given.is_valid(row) {
                values.append_value(given.value(row));
                continue;
            }
            let value = i64::try_from(next)
                .ok()
                .and_then(|k| self.step.checked_mul(k))
                .and_then(|offset| self.first.checked_add(offset))
                .ok_or_else(|| {
                    datafusion::error::DataFusionError::Execution(format!(
                        "identity column \"{}\" reached the end of bigint's range",
                        self.column
                    ))
                })?;
            values.append_value(value);
            next += 1;
        }
        Ok(ColumnarValue::Array(Arc::new(values.finish())))
    }
}

/// The schema of `schema` with the high-water marks `marks` set on its identity columns.
pub fn with_high_water_marks(schema: &StructType, marks: &[(String, i64)]) -> Result<StructType> {
    let fields: Vec<StructField> = schema
        .fields()
        .map(
            |field| match marks.iter().find(|(name, _)| name == field.name()) {
                Some((_, mark)) => field
                    .clone()
                    .add_metadata([(IDENTITY_HIGH_WATER_MARK, MetadataValue::Number(*mark))]),
                None => field.clone(),
            },
        )
        .collect();
    Ok(StructType::try_new(fields).map_err(deltalake::DeltaTableError::from)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(start: i64, step: i64, mark: Option<i64>) -> IdentityColumn {
        IdentityColumn {
            name: "id".into(),
            start,
            step,
            always: true,
            high_water_mark: mark,
        }
    }

    #[test]
    fn a_sequence_continues_from_its_high_water_mark() {
        assert_eq!(column(1, 1, None).next_value().unwrap(), 1);
        assert_eq!(column(1, 1, Some(43)).next_value().unwrap(), 44);
        assert_eq!(column(10, -5, Some(0)).next_value().unwrap(), -5);
        assert_eq!(column(1, 1, Some(43)).high_water_mark_after(3).unwrap(), 46);
        assert_eq!(column(100, 10, None).high_water_mark_after(2).unwrap(), 110);
        assert!(column(1, 1, Some(i64::MAX)).next_value().is_err());
    }
}
