//! The SQL side of identity columns: `GENERATED ALWAYS | BY DEFAULT AS IDENTITY [(START WITH n
//! INCREMENT BY m)]` in CREATE TABLE, and PostgreSQL's rules for writing them (an INSERT or
//! UPDATE may not give a GENERATED ALWAYS column a value: 428C9). The values themselves are
//! generated where rows are written ([`crate::delta::identity_columns`]).

use datafusion::arrow::array::Array;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::Column;
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use sqlparser::ast::{self, ColumnDef, SequenceOptions};

use crate::delta::IdentityColumn;
use crate::error::{Error, ErrorKind, Result};

/// The identity column a CREATE TABLE declares for `column` (named `name`).
pub(super) fn declared(
    column: &ColumnDef,
    name: &str,
    always: bool,
    options: &[SequenceOptions],
) -> Result<IdentityColumn> {
    if !matches!(
        column.data_type,
        ast::DataType::BigInt(None) | ast::DataType::Int8(None) | ast::DataType::Int64
    ) {
        return Err(Error::unsupported(format!(
            "identity column \"{name}\" of type {} is not supported: identity columns are bigint",
            column.data_type
        ))
        .with_hint("declare it BIGINT: Delta's identity columns hold 64-bit values"));
    }
    let mut identity = IdentityColumn {
        name: name.to_string(),
        start: 1,
        step: 1,
        always,
        high_water_mark: None,
    };
    for option in options {
        match option {
            SequenceOptions::StartWith(value, _) => identity.start = integer(value, name)?,
            SequenceOptions::IncrementBy(value, _) => identity.step = integer(value, name)?,
            other => {
                return Err(Error::unsupported(format!(
                    "identity column \"{name}\": {} is not supported",
                    other.to_string().trim()
                ))
                .with_hint("Delta's identity columns take START WITH and INCREMENT BY"));
            }
        }
    }
    if identity.step == 0 {
        return Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!("INCREMENT must not be zero (identity column \"{name}\")"),
        ));
    }
    Ok(identity)
}

/// An integer literal of START WITH / INCREMENT BY.
fn integer(value: &ast::Expr, name: &str) -> Result<i64> {
    let (negative, value) = match value {
        ast::Expr::UnaryOp {
            op: ast::UnaryOperator::Minus,
            expr,
        } => (true, expr.as_ref()),
        other => (false, other),
    };
    let parsed = match value {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(digits, _) => digits.parse::<i64>().ok(),
            _ => None,
        },
        _ => None,
    };
    parsed
        .map(|n| if negative { -n } else { n })
        .ok_or_else(|| {
            Error::syntax(format!(
                "identity column \"{name}\": {value} is not a bigint literal"
            ))
        })
}

/// `field` with the metadata that declares it an identity column, when it is one of
/// `identity` (texts here; the Delta layer writes them as Spark's numbers and boolean), and NOT
/// NULL as PostgreSQL's identity columns are (so UPDATE and MERGE cannot set NULL either).
pub(super) fn declare_field(field: Field, identity: &[IdentityColumn]) -> Field {
    let Some(column) = identity.iter().find(|c| &c.name == field.name()) else {
        return field;
    };
    let mut metadata = field.metadata().clone();
    for (key, value) in column.declaration() {
        metadata.insert(key.to_string(), value.to_string());
    }
    field.with_metadata(metadata).with_nullable(false)
}

/// 428C9 for an INSERT that gives a GENERATED ALWAYS identity column a value, as PostgreSQL.
pub(super) fn insert_refused(column: &str) -> Error {
    Error::new(
        ErrorKind::GeneratedAlways,
        format!("cannot insert a non-DEFAULT value into column \"{column}\""),
    )
    .with_detail(format!(
        "Column \"{column}\" is an identity column defined as GENERATED ALWAYS."
    ))
    .with_hint("leave the column out of the INSERT (or give DEFAULT): its value is generated")
}

/// 428C9 for an UPDATE that sets a GENERATED ALWAYS identity column, as PostgreSQL.
pub(super) fn update_refused(column: &str) -> Error {
    Error::new(
        ErrorKind::GeneratedAlways,
        format!("column \"{column}\" can only be updated to DEFAULT"),
    )
    .with_detail(format!(
        "Column \"{column}\" is an identity column defined as GENERATED ALWAYS."
    ))
}

/// The names of `table`'s GENERATED ALWAYS identity columns.
pub(super) fn always_generated(table: &deltalake::DeltaTable) -> Result<Vec<String>> {
    Ok(crate::delta::identity_columns(table)?
        .into_iter()
        .filter(|c| c.always)
        .map(|c| c.name)
        .collect())
}

/// `plan` (an INSERT's rows) with a NULL in any of `columns` (BY DEFAULT identity columns the
/// INSERT gives values for) refused as PostgreSQL refuses it (23502: identity columns are NOT
/// NULL, and only an omitted column or DEFAULT takes the next value).
pub(super) fn refuse_given_nulls(
    plan: LogicalPlan,
    columns: &[String],
    table: &crate::catalog::TableRef,
) -> Result<LogicalPlan> {
    if columns.is_empty() {
        return Ok(plan);
    }
    let schema = plan.schema().clone();
    let projection: Vec<Expr> = (0..schema.fields().len())
        .map(|i| {
            let (qualifier, field) = schema.qualified_field(i);
            let value = Expr::Column(Column::new(qualifier.cloned(), field.name()));
            if !columns.contains(field.name()) {
                return value;
            }
            ScalarUDF::new_from_impl(GivenValue {
                column: field.name().clone(),
                table: table.table.clone(),
                signature: Signature::any(1, Volatility::Volatile),
            })
            .call(vec![value])
            .alias(field.name())
        })
        .collect();
    Ok(LogicalPlanBuilder::from(plan)
        .project(projection)?
        .build()?)
}

/// The identity value an INSERT gives, passed through, or 23502 for a NULL.
#[derive(Debug, PartialEq, Eq, Hash)]
struct GivenValue {
    column: String,
    table: String,
    signature: Signature,
}

impl ScalarUDFImpl for GivenValue {
    fn name(&self) -> &str {
        "deltagres_given_identity_value"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> datafusion::error::Result<DataType> {
        Ok(args[0].clone())
    }

    fn invoke_with_args(
        &self,
        args: ScalarFunctionArgs,
    ) -> datafusion::error::Result<ColumnarValue> {
        let value = &args.args[0];
        let has_null = match value {
            ColumnarValue::Scalar(scalar) => scalar.is_null(),
            ColumnarValue::Array(array) => array.null_count() > 0,
        };
        if has_null {
            let error = Error::new(
                ErrorKind::NotNullViolation,
                format!(
                    "null value in column \"{}\" of relation \"{}\" violates not-null constraint",
                    self.column, self.table
                ),
            )
            .with_hint("leave the identity column out of the INSERT (or give DEFAULT) to have its value generated");
            return Err(datafusion::error::DataFusionError::External(Box::new(
                error,
            )));
        }
        Ok(value.clone())
    }
}
