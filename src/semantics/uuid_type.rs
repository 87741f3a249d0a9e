//! PostgreSQL's `uuid` type, which Delta has not: a uuid is stored as its text in the canonical
//! form (`a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`, lower case, as PostgreSQL prints it) and marked
//! as a uuid in the table's schema (field metadata [`TYPE_KEY`] = `uuid`, which Spark and the
//! deltalake package keep and read as a string). Every value on its way into such a column, and
//! every `x::uuid`, goes through [`CAST_UUID`], PostgreSQL's input function: the forms
//! PostgreSQL accepts (upper case, braces, no hyphens or a hyphen after any group of four digits)
//! are written in the canonical form, anything else fails with 22P02, so equal uuids are equal
//! texts and sort as PostgreSQL sorts uuids (byte order is the canonical text's order). Marked
//! values reach clients typed `uuid` (text and binary format).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::error::ErrorKind;

/// Field metadata naming the PostgreSQL type a text column or expression stands for; `uuid` is
/// its one value so far (json keeps its own key, `JSON_TYPE_KEY`).
pub const TYPE_KEY: &str = "deltagres.type";
const UUID_TAG: &str = "uuid";

/// The name the dialect plans `CAST(x AS uuid)` as, and the input function of uuid columns.
pub const CAST_UUID: &str = "pg_uuid";

/// Whether `field` is marked as a uuid.
pub fn is_uuid(field: &Field) -> bool {
    field.metadata().get(TYPE_KEY).map(String::as_str) == Some(UUID_TAG)
}

/// `field` marked as a uuid column.
pub fn mark_uuid(field: Field) -> Field {
    let mut metadata = field.metadata().clone();
    metadata.insert(TYPE_KEY.to_string(), UUID_TAG.to_string());
    field.with_metadata(metadata)
}

/// The 16 bytes of a uuid written in one of the forms PostgreSQL's `uuid_in` accepts: 32 hex
/// digits of either case, optionally in braces, with a hyphen allowed after any group of four.
pub fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let bytes = text.as_bytes();
    let (mut at, braces) = match bytes.first() {
        Some(b'{') => (1, true),
        _ => (0, false),
    };
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        let high = hex(*bytes.get(at)?)?;
        let low = hex(*bytes.get(at + 1)?)?;
        *byte = (high * 16 + low) as u8;
        at += 2;
        if bytes.get(at) == Some(&b'-') && i % 2 == 1 && i < 15 {
            at += 1;
        }
    }
    if braces {
        if bytes.get(at) != Some(&b'}') {
            return None;
        }
        at += 1;
    }
    (at == bytes.len()).then_some(out)
}

/// A uuid's canonical text (`8-4-4-4-12` lower-case hex digits).
pub fn canonical(bytes: &[u8; 16]) -> String {
    ::uuid::Uuid::from_bytes(*bytes).hyphenated().to_string()
}

/// `pg_uuid(text)`: PostgreSQL's uuid input, the text in canonical form (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
struct UuidInput {
    signature: Signature,
}

impl ScalarUDFImpl for UuidInput {
    fn name(&self) -> &str {
        CAST_UUID
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn display_name(&self, args: &[datafusion::logical_expr::Expr]) -> Result<String> {
        Ok(format!("CAST({} AS uuid)", args[0]))
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    /// The result is marked as a uuid, so it reaches clients as one.
    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(
            Field::new(CAST_UUID, DataType::Utf8, true).with_metadata(HashMap::from([(
                TYPE_KEY.to_string(),
                UUID_TAG.to_string(),
            )])),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let input = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let texts = input.as_string::<i32>();
            let mut out = StringBuilder::with_capacity(texts.len(), texts.len() * 36);
            for text in texts.iter() {
                match text {
                    None => out.append_null(),
                    Some(text) => match parse_uuid(text) {
                        Some(bytes) => out.append_value(canonical(&bytes)),
                        None => {
                            return Err(super::pg_error(
                                ErrorKind::InvalidTextRepresentation,
                                format!("invalid input syntax for type uuid: \"{text}\""),
                            ));
                        }
                    },
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// The uuid input function, for the column-input layer (values into a uuid column).
pub fn uuid_cast_udf() -> ScalarUDF {
    ScalarUDF::from(UuidInput {
        signature: Signature::string(1, Volatility::Immutable),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_input_forms_read_as_one_uuid() {
        let want = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
        for text in [
            "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
            "a0eebc999c0b4ef8bb6d6bb9bd380a11",
            "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
            "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
        ] {
            assert_eq!(
                parse_uuid(text).map(|b| canonical(&b)).as_deref(),
                Some(want),
                "{text}"
            );
        }
    }

    #[test]
    fn other_texts_are_not_uuids() {
        for text in [
            "",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
            "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11",
            "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
            "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        ] {
            assert_eq!(parse_uuid(text), None, "{text}");
        }
    }
}
