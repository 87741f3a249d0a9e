//! `varchar(n)` and `char(n)`: text with a declared length, as PostgreSQL 15 keeps it.
//!
//! Delta has one string type; a declared length lives in the column's field metadata under
//! Spark's own key ([`CHAR_TYPE_KEY`], `varchar(3)` / `char(3)`), so Spark enforces it on its
//! writes too and reads the column as the type it was declared. Values go in through PostgreSQL's
//! rules:
//! - **assignment** (INSERT, UPDATE, MERGE, COPY): a value longer than `n` characters fails the
//!   statement with 22001 (`value too long for type character varying(3)`) and nothing is
//!   written, unless every character past `n` is a space, which is cut;
//! - **explicit cast** (`'abcd'::varchar(3)`): cut to `n` characters, no error.
//!
//! A `char(n)` value is blank-padded in PostgreSQL, and its trailing spaces mean nothing
//! (`'a '::char(3) = 'a'`, `length` 1, `||` drops them). It is stored here without its trailing
//! spaces (so comparisons, `length` and `||` answer as PostgreSQL's), and padded to `n` only when
//! sent to a client (see `server::row_values`); Spark pads such a column when it reads it.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::error::ErrorKind;

/// Field metadata holding a text column's declared type: Spark's key, so Spark reads the column
/// as `varchar(n)` / `char(n)` and enforces the length on its own writes.
pub const CHAR_TYPE_KEY: &str = "__CHAR_VARCHAR_TYPE_STRING";

/// Which of PostgreSQL's two length-limited text types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CharKind {
    /// `varchar(n)` / `character varying(n)`: kept as written, at most `n` characters.
    Varchar,
    /// `char(n)` / `character(n)`: blank-padded to `n` characters.
    Char,
}

/// A declared text type with its length, `varchar(3)` or `char(3)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CharType {
    /// varchar or char.
    pub kind: CharKind,
    /// The declared length, in characters.
    pub length: u32,
}

impl CharType {
    /// The declared type a field is marked with, if any.
    pub fn of(field: &Field) -> Option<Self> {
        Self::parse(field.metadata().get(CHAR_TYPE_KEY)?)
    }

    /// Spark's spelling (`varchar(3)`, `char(3)`) read back.
    fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_ascii_lowercase();
        let (kind, rest) = if let Some(rest) = text.strip_prefix("varchar(") {
            (CharKind::Varchar, rest)
        } else if let Some(rest) = text.strip_prefix("char(") {
            (CharKind::Char, rest)
        } else {
            return None;
        };
        let length = rest.strip_suffix(')')?.trim().parse().ok()?;
        Some(Self { kind, length })
    }

    /// Spark's spelling, the value of [`CHAR_TYPE_KEY`].
    pub fn tag(self) -> String {
        match self.kind {
            CharKind::Varchar => format!("varchar({})", self.length),
            CharKind::Char => format!("char({})", self.length),
        }
    }

    /// PostgreSQL's name of the type (`format_type`, error messages): `character varying(3)`.
    pub fn pg_name(self) -> String {
        match self.kind {
            CharKind::Varchar => format!("character varying({})", self.length),
            CharKind::Char => format!("character({})", self.length),
        }
    }

    /// `pg_attribute.atttypmod` / the RowDescription's type modifier: the length plus 4, as
    /// PostgreSQL stores it.
    pub fn type_modifier(self) -> i32 {
        i32::try_from(self.length).map_or(-1, |n| n.saturating_add(4))
    }

    /// `field` marked as a column of this type.
    pub fn mark(self, field: Field) -> Field {
        let mut metadata = field.metadata().clone();
        metadata.insert(CHAR_TYPE_KEY.to_string(), self.tag());
        field.with_metadata(metadata)
    }

    /// The name of the function a value goes through on its way into a column of this type.
    pub fn input_function(self) -> &'static str {
        match self.kind {
            CharKind::Varchar => VARCHAR_IN,
            CharKind::Char => BPCHAR_IN,
        }
    }

    /// The name of the function an explicit cast to this type is planned as.
    pub fn cast_function(self) -> &'static str {
        match self.kind {
            CharKind::Varchar => VARCHAR_CAST,
            CharKind::Char => BPCHAR_CAST,
        }
    }

    /// A value of this type as PostgreSQL sends it: a `char(n)` value blank-padded to `n`.
    pub fn output(self, value: &str) -> std::borrow::Cow<'_, str> {
        let chars = value.chars().count();
        let length = self.length as usize;
        if self.kind == CharKind::Char && chars < length {
            let mut padded = String::with_capacity(value.len() + length - chars);
            padded.push_str(value);
            padded.extend(std::iter::repeat_n(' ', length - chars));
            std::borrow::Cow::Owned(padded)
        } else {
            std::borrow::Cow::Borrowed(value)
        }
    }
}

/// `pg_varchar_in(value, n)`: a value assigned to a `varchar(n)` column.
pub const VARCHAR_IN: &str = "pg_varchar_in";
/// `pg_bpchar_in(value, n)`: a value assigned to a `char(n)` column.
pub const BPCHAR_IN: &str = "pg_bpchar_in";
/// `pg_varchar_cast(value, n)`: `CAST(value AS varchar(n))`.
pub const VARCHAR_CAST: &str = "pg_varchar_cast";
/// `pg_bpchar_cast(value, n)`: `CAST(value AS char(n))`.
pub const BPCHAR_CAST: &str = "pg_bpchar_cast";

/// Assignment (an error past the length) or an explicit cast (cut to the length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Coercion {
    Assign,
    Cast,
}

/// One of the four functions above.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CharCoerce {
    name: &'static str,
    kind: CharKind,
    coercion: Coercion,
    signature: Signature,
}

impl CharCoerce {
    fn new(name: &'static str, kind: CharKind, coercion: Coercion) -> Self {
        Self {
            name,
            kind,
            coercion,
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

/// The functions values of these types go through, to register by name (MERGE's and UPDATE's
/// assignments are SQL text).
pub fn functions() -> Vec<ScalarUDF> {
    let kinds = [CharKind::Varchar, CharKind::Char];
    kinds
        .iter()
        .map(|&kind| input_udf(CharType { kind, length: 0 }))
        .chain(kinds.iter().map(|&kind| {
            let name = CharType { kind, length: 0 }.cast_function();
            ScalarUDF::from(CharCoerce::new(name, kind, Coercion::Cast))
        }))
        .collect()
}

/// The function a value assigned to a column of `char_type` goes through.
pub fn input_udf(char_type: CharType) -> ScalarUDF {
    ScalarUDF::from(CharCoerce::new(
        char_type.input_function(),
        char_type.kind,
        Coercion::Assign,
    ))
}

/// The length argument of a call, which must be a constant.
fn length_argument(value: Option<&ScalarValue>) -> Option<u32> {
    let value = value?.cast_to(&DataType::Int64).ok()?;
    match value {
        ScalarValue::Int64(Some(n)) => u32::try_from(n).ok(),
        _ => None,
    }
}

impl ScalarUDFImpl for CharCoerce {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("return_field_from_args is used instead")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let length = length_argument(args.scalar_arguments.get(1).copied().flatten());
        let Some(length) = length else {
            return datafusion::common::plan_err!("{}: the length must be a constant", self.name);
        };
        let char_type = CharType {
            kind: self.kind,
            length,
        };
        Ok(Arc::new(
            Field::new(self.name, DataType::Utf8, true).with_metadata(HashMap::from([(
                CHAR_TYPE_KEY.to_string(),
                char_type.tag(),
            )])),
        ))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let length = match &args.args[1] {
            ColumnarValue::Scalar(s) => length_argument(Some(s)),
            ColumnarValue::Array(_) => None,
        };
        let Some(length) = length else {
            return datafusion::common::exec_err!("{}: the length must be a constant", self.name);
        };
        let char_type = CharType {
            kind: self.kind,
            length,
        };
        let coercion = self.coercion;
        let value = args.args[0].clone();
        let rows = args.number_rows;
        let single = matches!(value, ColumnarValue::Scalar(_));
        let array = value.to_array(if single { 1 } else { rows })?;
        let text = datafusion::arrow::compute::cast(&array, &DataType::Utf8)?;
        let out = coerce_all(text.as_string::<i32>(), char_type, coercion)?;
        Ok(if single {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}

fn coerce_all(
    values: &datafusion::arrow::array::StringArray,
    char_type: CharType,
    coercion: Coercion,
) -> Result<ArrayRef> {
    let mut out = StringBuilder::with_capacity(values.len(), values.value_data().len());
    for row in 0..values.len() {
        if values.is_null(row) {
            out.append_null();
            continue;
        }
        out.append_value(coerce(values.value(row), char_type, coercion)?);
    }
    Ok(Arc::new(out.finish()))
}

/// One value in the type (see the module header); a `char(n)` value without trailing spaces.
fn coerce(value: &str, char_type: CharType, coercion: Coercion) -> Result<&str> {
    let length = char_type.length as usize;
    let cut = match value.char_indices().nth(length) {
        None => value,
        Some((end, _)) => {
            let (kept, rest) = value.split_at(end);
            if coercion == Coercion::Assign && rest.chars().any(|c| c != ' ') {
                return Err(super::pg_error(
                    ErrorKind::StringDataRightTruncation,
                    format!("value too long for type {}", char_type.pg_name()),
                ));
            }
            kept
        }
    };
    Ok(match char_type.kind {
        CharKind::Varchar => cut,
        CharKind::Char => cut.trim_end_matches(' '),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARCHAR3: CharType = CharType {
        kind: CharKind::Varchar,
        length: 3,
    };
    const CHAR3: CharType = CharType {
        kind: CharKind::Char,
        length: 3,
    };

    #[test]
    fn assignment_refuses_what_is_too_long_unless_it_is_spaces() {
        assert_eq!(coerce("abc", VARCHAR3, Coercion::Assign).unwrap(), "abc");
        assert_eq!(coerce("ab  ", VARCHAR3, Coercion::Assign).unwrap(), "ab ");
        assert!(coerce("abcd", VARCHAR3, Coercion::Assign).is_err());
        assert_eq!(coerce("äöüß", VARCHAR3, Coercion::Cast).unwrap(), "äöü");
        assert_eq!(coerce("a  ", CHAR3, Coercion::Assign).unwrap(), "a");
        assert_eq!(coerce("abc  ", CHAR3, Coercion::Assign).unwrap(), "abc");
        assert!(coerce("abcd", CHAR3, Coercion::Assign).is_err());
        assert_eq!(coerce("abcd", CHAR3, Coercion::Cast).unwrap(), "abc");
    }

    #[test]
    fn the_declared_type_reads_back_and_char_pads_on_output() {
        let field = CHAR3.mark(Field::new("c", DataType::Utf8, true));
        assert_eq!(CharType::of(&field), Some(CHAR3));
        assert_eq!(CharType::parse("VARCHAR(10)").map(|t| t.length), Some(10));
        assert_eq!(CHAR3.output("a"), "a  ");
        assert_eq!(VARCHAR3.output("a"), "a");
        assert_eq!(VARCHAR3.pg_name(), "character varying(3)");
        assert_eq!(CHAR3.type_modifier(), 7);
    }
}
