//! Rows of a record batch as DataRow messages: `arrow-pg` encodes each value, except where it
//! would send a wrong one. A NULL interval came out as `00:00:00` (arrow-pg reads the slot
//! without looking at the null mask), so every NULL is sent as NULL here; and a `numeric`
//! beyond `rust_decimal`'s 28 fractional digits and 96-bit mantissa (PostgreSQL's numeric has
//! no such bound) failed the whole result: in text format it is sent as its exact text, in
//! binary format rounded to the largest scale that fits. Floats in text format are printed as
//! PostgreSQL prints them (`1`, `1e+20`; the encoder's own form was `1.0`, `1e20`), and
//! timestamps, times and intervals by [`crate::semantics::temporal_text`].

use std::sync::Arc;

use arrow_pg::encoder::{Encoder, encode_value};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Float32Type, Float64Type};
use pgwire::api::Type;
use pgwire::api::results::{DataRowEncoder, FieldFormat, FieldInfo};
use pgwire::error::PgWireResult;
use pgwire::messages::data::DataRow;

/// rust_decimal's largest mantissa, 2^96 - 1.
const MAX_MANTISSA: i128 = (1i128 << 96) - 1;
/// rust_decimal's largest scale.
const MAX_SCALE: i8 = 28;

/// The batch's rows, encoded one at a time as the stream is read.
pub fn encode_batch(
    fields: Arc<Vec<FieldInfo>>,
    batch: RecordBatch,
) -> impl Iterator<Item = PgWireResult<DataRow>> + Send + Sync {
    let mut encoder = DataRowEncoder::new(fields.clone());
    // Columns sent as jsonb, converted once per batch.
    let json: Vec<Option<PgWireResult<Vec<Option<super::json_values::JsonbText>>>>> = batch
        .columns()
        .iter()
        .map(|c| {
            super::json_values::sent_as_json(c.data_type())
                .then(|| super::json_values::json_rows(c))
        })
        .collect();
    (0..batch.num_rows()).map(move |row| {
        let schema = batch.schema_ref();
        for (index, pg_field) in fields.iter().enumerate() {
            if let Some(values) = &json[index] {
                let values = values
                    .as_ref()
                    .map_err(|e| pgwire::error::PgWireError::ApiError(e.to_string().into()))?;
                Encoder::encode_field(&mut encoder, &values[row], pg_field)?;
                continue;
            }
            // A char(n) value, blank-padded to n as PostgreSQL sends it (stored without its
            // trailing spaces, see semantics::CharType).
            if *pg_field.datatype() == Type::BPCHAR
                && let Some(char_type) = crate::semantics::CharType::of(schema.field(index))
                && let Some(text) = string_at(batch.column(index), row)
            {
                let value = text.map(|text| char_type.output(text).into_owned());
                Encoder::encode_field(&mut encoder, &value, pg_field)?;
                continue;
            }
            // A uuid (see encode::fields): its text, or its 16 bytes in binary format.
            if *pg_field.datatype() == Type::UUID
                && let Some(text) = string_at(batch.column(index), row)
            {
                let value = text.map(super::uuid_values::UuidText);
                Encoder::encode_field(&mut encoder, &value, pg_field)?;
                continue;
            }
            // A document a query made (see encode::fields): its text, as json or jsonb.
            if matches!(*pg_field.datatype(), Type::JSON | Type::JSONB)
                && let Some(text) = string_at(batch.column(index), row)
            {
                let value = text.map(|text| super::json_values::JsonbText(text.to_string()));
                Encoder::encode_field(&mut encoder, &value, pg_field)?;
                continue;
            }
            encode(
                &mut encoder,
                batch.column(index),
                row,
                schema.field(index),
                pg_field,
            )?;
        }
        Ok(encoder.take_row())
    })
}

/// The text at `row` of a string column of any of Arrow's three layouts (`None` inside for
/// NULL); `None` when the column is not text.
fn string_at(column: &dyn Array, row: usize) -> Option<Option<&str>> {
    let valid = column.is_valid(row);
    if let Some(text) = column.as_string_opt::<i32>() {
        return Some(valid.then(|| text.value(row)));
    }
    if let Some(text) = column.as_string_opt::<i64>() {
        return Some(valid.then(|| text.value(row)));
    }
    column
        .as_string_view_opt()
        .map(|text| valid.then(|| text.value(row)))
}

fn encode(
    encoder: &mut DataRowEncoder,
    column: &Arc<dyn Array>,
    row: usize,
    field: &datafusion::arrow::datatypes::Field,
    pg_field: &FieldInfo,
) -> PgWireResult<()> {
    if column.is_null(row) {
        return Encoder::encode_field(encoder, &None::<i32>, pg_field);
    }
    if pg_field.format() == FieldFormat::Text {
        match column.data_type() {
            DataType::Float64 => {
                let v = column.as_primitive::<Float64Type>().value(row);
                return Encoder::encode_field(
                    encoder,
                    &crate::semantics::float_text(v, 15),
                    pg_field,
                );
            }
            DataType::Float32 => {
                let v = column.as_primitive::<Float32Type>().value(row);
                return Encoder::encode_field(
                    encoder,
                    &crate::semantics::float_text(v as f64, 6),
                    pg_field,
                );
            }
            _ => {}
        }
        // Arrays and composites as PostgreSQL's array_out and record_out write them (elements
        // in their output forms; a NULL field is empty, where the encoder wrote `""`, an empty
        // text).
        if matches!(
            column.data_type(),
            DataType::List(_)
                | DataType::LargeList(_)
                | DataType::FixedSizeList(..)
                | DataType::Struct(_)
        ) {
            let text = crate::semantics::nested_text(column, row, pg_field.format_options())
                .map_err(|e| pgwire::error::PgWireError::ApiError(e.to_string().into()))?;
            return Encoder::encode_field(encoder, &Some(OutputText(text)), pg_field);
        }
        if let Some(text) =
            crate::semantics::temporal_text::text(column.as_ref(), row, pg_field.format_options())
        {
            return Encoder::encode_field(encoder, &text, pg_field);
        }
    }
    if let DataType::Decimal128(_, scale) = column.data_type() {
        let value = column.as_primitive::<Decimal128Type>().value(row);
        let fits = (0..=MAX_SCALE).contains(scale) && value.unsigned_abs() <= MAX_MANTISSA as u128;
        if !fits {
            return match pg_field.format() {
                FieldFormat::Text => {
                    Encoder::encode_field(encoder, &decimal_text(value, *scale), pg_field)
                }
                FieldFormat::Binary => {
                    let (value, scale) = fitting(value, *scale);
                    let decimal = rust_decimal::Decimal::from_i128_with_scale(value, scale as u32);
                    Encoder::encode_field(encoder, &Some(decimal), pg_field)
                }
            };
        }
    }
    encode_value(encoder, column, row, field, pg_field)
}

/// A value's text as its type's output function wrote it, sent in text format as it is (a
/// `String` is quoted as an array element when the column is an array).
#[derive(Debug)]
struct OutputText(String);

impl postgres_types::ToSql for OutputText {
    fn to_sql(
        &self,
        _ty: &postgres_types::Type,
        out: &mut bytes::BytesMut,
    ) -> Result<postgres_types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(postgres_types::IsNull::No)
    }

    fn accepts(_ty: &postgres_types::Type) -> bool {
        true
    }

    postgres_types::to_sql_checked!();
}

impl pgwire::types::ToSqlText for OutputText {
    fn to_sql_text(
        &self,
        _ty: &postgres_types::Type,
        out: &mut bytes::BytesMut,
        _format_options: &pgwire::types::format::FormatOptions,
    ) -> Result<postgres_types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(postgres_types::IsNull::No)
    }
}

/// A Decimal128 value's exact text, as PostgreSQL prints a numeric.
fn decimal_text(value: i128, scale: i8) -> String {
    let digits = value.unsigned_abs().to_string();
    let sign = if value < 0 { "-" } else { "" };
    if scale <= 0 {
        let zeros = if value == 0 {
            String::new()
        } else {
            "0".repeat(scale.unsigned_abs() as usize)
        };
        return format!("{sign}{digits}{zeros}");
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

/// The value rounded (half away from zero) to the largest scale at which rust_decimal holds it.
fn fitting(mut value: i128, mut scale: i8) -> (i128, i8) {
    if scale < 0 {
        let factor = 10i128.saturating_pow(scale.unsigned_abs() as u32);
        return (value.saturating_mul(factor), 0);
    }
    while scale > 0 && (scale > MAX_SCALE || value.unsigned_abs() > MAX_MANTISSA as u128) {
        let remainder = value % 10;
        value /= 10;
        if remainder.abs() >= 5 {
            value += remainder.signum();
        }
        scale -= 1;
    }
    (value, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_as_postgresql_prints_numeric() {
        assert_eq!(decimal_text(1500, 3), "1.500");
        assert_eq!(decimal_text(-5, 3), "-0.005");
        assert_eq!(decimal_text(12, 0), "12");
        assert_eq!(decimal_text(1, -3), "1000");
        assert_eq!(decimal_text(0, 2), "0.00");
    }

    #[test]
    fn binary_values_round_to_a_scale_that_fits() {
        assert_eq!(fitting(15, 1), (15, 1));
        let huge = 10i128.pow(35) + 6; // 35 digits at scale 1
        let (v, s) = fitting(huge, 1);
        assert!(s == 0 || v.unsigned_abs() <= MAX_MANTISSA as u128);
        assert_eq!(fitting(-25, 30).1, 28);
    }
}
