//! `bytea` text as PostgreSQL reads and writes it.
//!
//! PostgreSQL reads a text as bytea with its input function: `\x` and hex digits (`'\x00ff'` is
//! two bytes), or the escape form (`\\` a backslash, `\ooo` an octal byte, other characters as
//! they are). Arrow's cast from text to binary takes the text's own bytes, so `'\x00ff'::bytea`
//! was six bytes, and `INSERT INTO t (b) VALUES ('\x00ff')` stored them: data nobody asked for,
//! without an error. [`bytea_in`] is PostgreSQL's input function; the semantics rule puts every
//! cast from text to binary through [`PgByteaIn`] (casts, INSERT/UPDATE/MERGE values, COPY).
//!
//! `encode` / `decode` are PostgreSQL's (DataFusion's have no `escape` format, write base64
//! without padding and line breaks, and name formats case-sensitively): [`PgEncode`] and
//! [`PgDecode`] replace them under the same names.

use std::fmt::Write as _;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::types::{NativeType, logical_string};
use datafusion::error::Result;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignatureClass, Volatility,
};

use crate::error::{Error, ErrorKind};

/// PostgreSQL's `byteain`: `text` read as bytea (hex form `\x...`, else the escape form).
pub fn bytea_in(text: &str) -> std::result::Result<Vec<u8>, Error> {
    match text.strip_prefix("\\x") {
        Some(hex) => hex_decode(hex),
        None => escape_decode(text),
    }
}

/// Hex digits in pairs, whitespace allowed between pairs (PostgreSQL's `hex_decode`).
fn hex_decode(hex: &str) -> std::result::Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut chars = hex.chars();
    let digit = |c: char| {
        c.to_digit(16).map(|d| d as u8).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidParameterValue,
                format!("invalid hexadecimal digit: \"{c}\""),
            )
        })
    };
    while let Some(c) = chars.next() {
        if matches!(c, ' ' | '\n' | '\t' | '\r') {
            continue;
        }
        let high = digit(c)?;
        let Some(next) = chars.next() else {
            return Err(Error::new(
                ErrorKind::InvalidParameterValue,
                "invalid hexadecimal data: odd number of digits",
            ));
        };
        out.push(high << 4 | digit(next)?);
    }
    Ok(out)
}

/// The escape form: `\\` is a backslash, `\ooo` (first digit 0-3) an octal byte, any other
/// backslash an error (PostgreSQL's `byteain` and `esc_decode`).
fn escape_decode(text: &str) -> std::result::Result<Vec<u8>, Error> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
        } else if let [b'0'..=b'3', b'0'..=b'7', b'0'..=b'7'] =
            bytes.get(i + 1..i + 4).unwrap_or_default()
        {
            let digits = &bytes[i + 1..i + 4];
            out.push((digits[0] - b'0') << 6 | (digits[1] - b'0') << 3 | (digits[2] - b'0'));
            i += 4;
        } else if bytes.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            return Err(Error::new(
                ErrorKind::InvalidTextRepresentation,
                "invalid input syntax for type bytea",
            ));
        }
    }
    Ok(out)
}

/// A format of `encode` / `decode`.
#[derive(Debug, Clone, Copy)]
enum Format {
    Hex,
    Base64,
    Escape,
}

impl Format {
    /// The format named `name` (any case, as PostgreSQL), else 22023.
    fn named(name: &str) -> std::result::Result<Self, Error> {
        match name.to_ascii_lowercase().as_str() {
            "hex" => Ok(Self::Hex),
            "base64" => Ok(Self::Base64),
            "escape" => Ok(Self::Escape),
            _ => Err(Error::new(
                ErrorKind::InvalidParameterValue,
                format!("unrecognized encoding: \"{name}\""),
            )),
        }
    }

    fn encode(self, bytes: &[u8]) -> String {
        match self {
            Self::Hex => hex::encode(bytes),
            Self::Base64 => base64_encode(bytes),
            Self::Escape => {
                let mut s = String::with_capacity(bytes.len());
                for &b in bytes {
                    if b == 0 || b >= 0x80 {
                        let _ = write!(s, "\\{b:03o}");
                    } else if b == b'\\' {
                        s.push_str("\\\\");
                    } else {
                        s.push(b as char);
                    }
                }
                s
            }
        }
    }

    fn decode(self, text: &str) -> std::result::Result<Vec<u8>, Error> {
        match self {
            Self::Hex => hex_decode(text),
            Self::Base64 => base64_decode(text),
            Self::Escape => escape_decode(text),
        }
    }
}

/// Base64 with padding and a line break after every 76 characters, as PostgreSQL writes it
/// (a break also follows a last full line).
fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + bytes.len() / 57 + 4);
    for line in bytes.chunks(57) {
        base64::engine::general_purpose::STANDARD.encode_string(line, &mut out);
        if line.len() == 57 {
            out.push('\n');
        }
    }
    out
}

/// PostgreSQL's `pg_base64_decode`: whitespace skipped, `=` only where padding can be, the input
/// a whole number of four-character groups.
fn base64_decode(text: &str) -> std::result::Result<Vec<u8>, Error> {
    let invalid = |message: String| Error::new(ErrorKind::InvalidParameterValue, message);
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buf, mut pos, mut end) = (0u32, 0u32, 0u32);
    for c in text.chars() {
        let value = match c {
            ' ' | '\t' | '\n' | '\r' => continue,
            '=' => {
                if end == 0 {
                    end = match pos {
                        2 => 1,
                        3 => 2,
                        _ => {
                            return Err(invalid(
                                "unexpected \"=\" while decoding base64 sequence".into(),
                            ));
                        }
                    };
                }
                0
            }
            'A'..='Z' => c as u32 - 'A' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 26,
            '0'..='9' => c as u32 - '0' as u32 + 52,
            '+' => 62,
            '/' => 63,
            _ => {
                return Err(invalid(format!(
                    "invalid symbol \"{c}\" found while decoding base64 sequence"
                )));
            }
        };
        buf = (buf << 6) + value;
        pos += 1;
        if pos == 4 {
            out.push((buf >> 16) as u8);
            if end == 0 || end > 1 {
                out.push((buf >> 8) as u8);
            }
            if end == 0 || end > 2 {
                out.push(buf as u8);
            }
            buf = 0;
            pos = 0;
        }
    }
    if pos != 0 {
        return Err(invalid("invalid base64 end sequence".into()));
    }
    Ok(out)
}

/// `pg_bytea_in(text)`: a text read as bytea by [`bytea_in`]. The semantics rule plans every cast
/// from text to a binary type as this function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgByteaIn {
    signature: Signature,
}

static BYTEA_IN: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(PgByteaIn {
        signature: Signature::any(1, Volatility::Immutable),
    }))
});

impl PgByteaIn {
    /// The text `operand` (a string) read as bytea.
    pub fn call(operand: Expr) -> Expr {
        BYTEA_IN.call(vec![operand])
    }

    /// Whether `expr` is already a call of this function.
    pub fn is_call(expr: &Expr) -> bool {
        matches!(expr, Expr::ScalarFunction(f) if f.name() == "pg_bytea_in")
    }
}

impl ScalarUDFImpl for PgByteaIn {
    fn name(&self) -> &str {
        "pg_bytea_in"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let text = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let mut out = BinaryBuilder::with_capacity(text.len(), text.value_data().len());
            for value in text.iter() {
                match value {
                    None => out.append_null(),
                    Some(value) => out.append_value(bytea_in(value).map_err(super::external)?),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// `encode(bytea, format)`: PostgreSQL's (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgEncode {
    signature: Signature,
}

impl PgEncode {
    fn new() -> Self {
        Self {
            // A text argument is cast to bytea, and so read by bytea's input function.
            signature: Signature::coercible(
                vec![
                    Coercion::new_implicit(
                        TypeSignatureClass::Binary,
                        vec![TypeSignatureClass::Native(logical_string())],
                        NativeType::Binary,
                    ),
                    Coercion::new_exact(TypeSignatureClass::Native(logical_string())),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for PgEncode {
    fn name(&self) -> &str {
        "encode"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let bytes = datafusion::arrow::compute::cast(&arrays[0], &DataType::Binary)?;
            let bytes = bytes.as_binary::<i32>();
            let formats = datafusion::arrow::compute::cast(&arrays[1], &DataType::Utf8)?;
            let formats = formats.as_string::<i32>();
            let mut out = StringBuilder::with_capacity(bytes.len(), bytes.value_data().len() * 2);
            for row in 0..bytes.len() {
                if bytes.is_null(row) || formats.is_null(row) {
                    out.append_null();
                } else {
                    let format = Format::named(formats.value(row)).map_err(super::external)?;
                    out.append_value(format.encode(bytes.value(row)));
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// `decode(text, format)`: PostgreSQL's (see the module header).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgDecode {
    signature: Signature,
}

impl PgDecode {
    fn new() -> Self {
        let text = || Coercion::new_exact(TypeSignatureClass::Native(logical_string()));
        Self {
            signature: Signature::coercible(vec![text(), text()], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for PgDecode {
    fn name(&self) -> &str {
        "decode"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Binary)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let text = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let formats = datafusion::arrow::compute::cast(&arrays[1], &DataType::Utf8)?;
            let formats = formats.as_string::<i32>();
            let mut out = BinaryBuilder::with_capacity(text.len(), text.value_data().len());
            for row in 0..text.len() {
                if text.is_null(row) || formats.is_null(row) {
                    out.append_null();
                } else {
                    let format = Format::named(formats.value(row)).map_err(super::external)?;
                    out.append_value(format.decode(text.value(row)).map_err(super::external)?);
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// `encode` and `decode`, registered over DataFusion's.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(PgEncode::new()),
        ScalarUDF::from(PgDecode::new()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_input_forms() {
        assert_eq!(bytea_in("\\x00ff 41").unwrap(), vec![0, 255, 0x41]);
        assert_eq!(bytea_in("a\\001b\\\\").unwrap(), b"a\x01b\\".to_vec());
        assert_eq!(bytea_in("\\x").unwrap(), Vec::<u8>::new());
        assert_eq!(
            bytea_in("\\x6").unwrap_err().kind,
            ErrorKind::InvalidParameterValue
        );
        assert_eq!(
            bytea_in("a\\400").unwrap_err().kind,
            ErrorKind::InvalidTextRepresentation
        );
        assert_eq!(
            bytea_in("a\\").unwrap_err().kind,
            ErrorKind::InvalidTextRepresentation
        );
    }

    #[test]
    fn base64_as_postgres_writes_and_reads_it() {
        let line = base64_encode(&[0xab; 57]);
        assert!(line.ends_with('\n') && line.len() == 77);
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_decode("YW I=").unwrap(), b"ab".to_vec());
        assert_eq!(base64_decode("YWI=YWI=").unwrap(), b"abab".to_vec());
        assert!(base64_decode("YWI").is_err());
        assert!(base64_decode("Y=WI").is_err());
    }

    #[test]
    fn escape_format_round_trips() {
        let bytes = [0u8, 0x80, 0xff, b'\\', b'A'];
        let text = Format::Escape.encode(&bytes);
        assert_eq!(text, "\\000\\200\\377\\\\A");
        assert_eq!(Format::Escape.decode(&text).unwrap(), bytes.to_vec());
    }
}
