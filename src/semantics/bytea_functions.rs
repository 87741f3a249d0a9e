//! PostgreSQL's functions over bytea that DataFusion lacks or takes text only for:
//! `substring`, `octet_length` and `bit_length` of a bytea (DataFusion refused them),
//! `convert_from(bytea, encoding)` (the bytes
//! read as text) and `convert_to(text, encoding)`, for the encodings UTF8, LATIN1 and
//! SQL_ASCII; another encoding PostgreSQL knows is refused with 0A000.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::types::{NativeType, logical_binary, logical_int64, logical_string};
use datafusion::error::Result;
use datafusion::logical_expr::{
    Coercion, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TypeSignature, TypeSignatureClass, Volatility,
};

use crate::error::{Error, ErrorKind};

fn bytes_arg() -> Coercion {
    Coercion::new_implicit(
        TypeSignatureClass::Native(logical_binary()),
        vec![TypeSignatureClass::Binary],
        NativeType::Binary,
    )
}

fn int_arg() -> Coercion {
    Coercion::new_implicit(
        TypeSignatureClass::Native(logical_int64()),
        vec![TypeSignatureClass::Integer],
        NativeType::Int64,
    )
}

fn text_arg() -> Coercion {
    Coercion::new_exact(TypeSignatureClass::Native(logical_string()))
}

/// What a [`ByteaAware`] function does with a bytea.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum BinaryKind {
    /// `substring(bytea FROM start [FOR count])`: PostgreSQL's `bytea_substring` (a start
    /// before 1 shortens the count, as for text; a negative count is 22011).
    Substring,
    /// `octet_length(bytea)`: its bytes.
    OctetLength,
    /// `bit_length(bytea)`: its bytes times 8.
    BitLength,
}

/// One of DataFusion's text functions that also takes a bytea, as PostgreSQL's does: a text
/// argument goes to DataFusion's function unchanged, a bytea is answered here. Registered
/// over DataFusion's under the same names.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ByteaAware {
    inner: Arc<ScalarUDF>,
    kind: BinaryKind,
    signature: Signature,
}

impl ByteaAware {
    fn new(inner: Arc<ScalarUDF>, kind: BinaryKind) -> Self {
        let mut variants = match &inner.signature().type_signature {
            TypeSignature::OneOf(variants) => variants.clone(),
            other => vec![other.clone()],
        };
        match kind {
            BinaryKind::Substring => {
                variants.push(TypeSignature::Coercible(vec![bytes_arg(), int_arg()]));
                variants.push(TypeSignature::Coercible(vec![
                    bytes_arg(),
                    int_arg(),
                    int_arg(),
                ]));
            }
            BinaryKind::OctetLength | BinaryKind::BitLength => {
                variants.push(TypeSignature::Coercible(vec![bytes_arg()]));
            }
        }
        Self {
            signature: Signature::one_of(variants, Volatility::Immutable),
            inner,
            kind,
        }
    }
}

static SUBSTRING: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(ByteaAware::new(
        datafusion::functions::unicode::substr(),
        BinaryKind::Substring,
    )))
});

/// `substring(x FROM a [FOR b])` / `substr(x, a [, b])` of a text or a bytea (the operator
/// planner plans the SQL form as this).
pub fn substring(args: Vec<Expr>) -> Expr {
    SUBSTRING.call(args)
}

impl ScalarUDFImpl for ByteaAware {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.first().is_some_and(DataType::is_binary) {
            return Ok(match self.kind {
                BinaryKind::Substring => DataType::Binary,
                BinaryKind::OctetLength | BinaryKind::BitLength => DataType::Int32,
            });
        }
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<datafusion::arrow::datatypes::FieldRef> {
        if args
            .arg_fields
            .first()
            .is_some_and(|f| f.data_type().is_binary())
        {
            let types: Vec<DataType> = args
                .arg_fields
                .iter()
                .map(|f| f.data_type().clone())
                .collect();
            return Ok(Arc::new(datafusion::arrow::datatypes::Field::new(
                self.name(),
                self.return_type(&types)?,
                true,
            )));
        }
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !args
            .arg_fields
            .first()
            .is_some_and(|f| f.data_type().is_binary())
        {
            return self.inner.invoke_with_args(args);
        }
        let kind = self.kind;
        super::over_arrays(&args, |arrays| {
            let bytes = datafusion::arrow::compute::cast(&arrays[0], &DataType::Binary)?;
            let bytes = bytes.as_binary::<i32>();
            match kind {
                BinaryKind::OctetLength | BinaryKind::BitLength => {
                    let factor = if kind == BinaryKind::BitLength { 8 } else { 1 };
                    let lengths: datafusion::arrow::array::Int32Array = bytes
                        .iter()
                        .map(|b| b.map(|b| b.len() as i32 * factor))
                        .collect();
                    Ok(Arc::new(lengths) as ArrayRef)
                }
                BinaryKind::Substring => substring_of_bytes(bytes, &arrays[1..]),
            }
        })
    }
}

fn substring_of_bytes(
    bytes: &datafusion::arrow::array::BinaryArray,
    bounds: &[ArrayRef],
) -> Result<ArrayRef> {
    let starts = datafusion::arrow::compute::cast(&bounds[0], &DataType::Int64)?;
    let starts = starts.as_primitive::<Int64Type>();
    let counts = bounds
        .get(1)
        .map(|a| datafusion::arrow::compute::cast(a, &DataType::Int64))
        .transpose()?;
    let counts = counts.as_ref().map(|c| c.as_primitive::<Int64Type>());
    let mut out = BinaryBuilder::with_capacity(bytes.len(), bytes.value_data().len());
    for row in 0..bytes.len() {
        if bytes.is_null(row) || starts.is_null(row) || counts.is_some_and(|c| c.is_null(row)) {
            out.append_null();
            continue;
        }
        let value = bytes.value(row);
        let count = counts.map(|c| c.value(row));
        let range =
            substring_range(value.len(), starts.value(row), count).map_err(super::external)?;
        out.append_value(&value[range]);
    }
    Ok(Arc::new(out.finish()) as ArrayRef)
}

/// The bytes `substring(bytes FROM start FOR count)` keeps, as a range.
fn substring_range(
    len: usize,
    start: i64,
    count: Option<i64>,
) -> std::result::Result<std::ops::Range<usize>, Error> {
    let first = start.max(1);
    let end = match count {
        Some(count) if count < 0 => {
            return Err(Error::new(
                ErrorKind::SubstringError,
                "negative substring length not allowed",
            ));
        }
        Some(count) => start.saturating_add(count),
        None => i64::MAX,
    };
    let clamp = |i: i64| (i.max(1) - 1).min(len as i64) as usize;
    let (from, to) = (clamp(first), clamp(end));
    Ok(from..to.max(from))
}

/// The encodings `convert_from` / `convert_to` handle.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Encoding {
    Utf8,
    Latin1,
    SqlAscii,
}

/// PostgreSQL's encoding names (case and punctuation ignored, as `clean_encoding_name` does)
/// that this server does not convert.
const OTHER_ENCODINGS: &[&str] = &[
    "big5",
    "eucjp",
    "euccn",
    "euckr",
    "euctw",
    "eucjis2004",
    "gb18030",
    "gbk",
    "iso885915",
    "iso88595",
    "iso88596",
    "iso88597",
    "iso88598",
    "johab",
    "koi8r",
    "koi8u",
    "latin2",
    "latin3",
    "latin4",
    "latin5",
    "latin6",
    "latin7",
    "latin8",
    "latin9",
    "latin10",
    "mskanji",
    "mule_internal",
    "muleinternal",
    "shiftjis",
    "sjis",
    "shiftjis2004",
    "uhc",
    "win866",
    "win874",
    "win1250",
    "win1251",
    "win1252",
    "win1253",
    "win1254",
    "win1255",
    "win1256",
    "win1257",
    "win1258",
    "windows1252",
    "windows1251",
    "windows1250",
    "cp1252",
    "iso88592",
];

impl Encoding {
    /// The encoding called `name`; 22023 for a name PostgreSQL does not know, 0A000 for one it
    /// knows and this server does not convert.
    fn named(name: &str, role: &str) -> std::result::Result<Self, Error> {
        let clean: String = name
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        match clean.as_str() {
            "utf8" | "unicode" => Ok(Self::Utf8),
            "latin1" | "iso88591" => Ok(Self::Latin1),
            "sqlascii" => Ok(Self::SqlAscii),
            other if OTHER_ENCODINGS.contains(&other) => Err(Error::new(
                ErrorKind::FeatureNotSupported,
                format!(
                    "conversion with encoding \"{name}\" is not supported; \
                     UTF8, LATIN1 and SQL_ASCII are"
                ),
            )),
            _ => Err(Error::new(
                ErrorKind::InvalidParameterValue,
                format!("invalid {role} encoding name \"{name}\""),
            )),
        }
    }

    /// `bytes` in this encoding, as text.
    fn read(self, bytes: &[u8]) -> std::result::Result<String, Error> {
        match self {
            Self::Latin1 => {
                if let Some(at) = bytes.iter().position(|b| *b == 0) {
                    return Err(invalid_sequence("LATIN1", &bytes[at..at + 1]));
                }
                Ok(bytes.iter().map(|&b| b as char).collect())
            }
            Self::Utf8 | Self::SqlAscii => {
                let (valid, rest) = match std::str::from_utf8(bytes) {
                    Ok(text) => (text, &[][..]),
                    Err(e) => (
                        std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
                        &bytes[e.valid_up_to()..],
                    ),
                };
                if let Some(at) = valid.find('\0') {
                    return Err(invalid_sequence("UTF8", &bytes[at..at + 1]));
                }
                if !rest.is_empty() {
                    let lead = rest[0];
                    let width = match lead {
                        0xc0..=0xdf => 2,
                        0xe0..=0xef => 3,
                        0xf0..=0xf7 => 4,
                        _ => 1,
                    };
                    return Err(invalid_sequence("UTF8", &rest[..width.min(rest.len())]));
                }
                Ok(valid.to_string())
            }
        }
    }

    /// `text` written in this encoding.
    fn write(self, text: &str) -> std::result::Result<Vec<u8>, Error> {
        match self {
            Self::Utf8 | Self::SqlAscii => Ok(text.as_bytes().to_vec()),
            Self::Latin1 => text
                .chars()
                .map(|c| {
                    u8::try_from(u32::from(c)).map_err(|_| {
                        let mut buf = [0u8; 4];
                        let bytes = c.encode_utf8(&mut buf).as_bytes();
                        Error::new(
                            ErrorKind::UntranslatableCharacter,
                            format!(
                                "character with byte sequence {} in encoding \"UTF8\" has no \
                                 equivalent in encoding \"LATIN1\"",
                                hex_bytes(bytes)
                            ),
                        )
                    })
                })
                .collect(),
        }
    }
}

fn hex_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("0x{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn invalid_sequence(encoding: &str, bytes: &[u8]) -> Error {
    Error::new(
        ErrorKind::CharacterNotInRepertoire,
        format!(
            "invalid byte sequence for encoding \"{encoding}\": {}",
            hex_bytes(bytes)
        ),
    )
}

/// `convert_from(bytea, encoding)` (text out) or `convert_to(text, encoding)` (bytea out).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Convert {
    to_text: bool,
    signature: Signature,
}

impl Convert {
    fn new(to_text: bool) -> Self {
        let value = if to_text { bytes_arg() } else { text_arg() };
        Self {
            to_text,
            signature: Signature::coercible(vec![value, text_arg()], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Convert {
    fn name(&self) -> &str {
        if self.to_text {
            "convert_from"
        } else {
            "convert_to"
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.to_text {
            DataType::Utf8
        } else {
            DataType::Binary
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let to_text = self.to_text;
        super::over_arrays(&args, |arrays| {
            let names = datafusion::arrow::compute::cast(&arrays[1], &DataType::Utf8)?;
            let names = names.as_string::<i32>();
            let role = if to_text { "source" } else { "destination" };
            if to_text {
                let bytes = datafusion::arrow::compute::cast(&arrays[0], &DataType::Binary)?;
                let bytes = bytes.as_binary::<i32>();
                let mut out = StringBuilder::with_capacity(bytes.len(), bytes.value_data().len());
                for row in 0..bytes.len() {
                    if bytes.is_null(row) || names.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let encoding =
                        Encoding::named(names.value(row), role).map_err(super::external)?;
                    out.append_value(encoding.read(bytes.value(row)).map_err(super::external)?);
                }
                Ok(Arc::new(out.finish()) as ArrayRef)
            } else {
                let text = datafusion::arrow::compute::cast(&arrays[0], &DataType::Utf8)?;
                let text = text.as_string::<i32>();
                let mut out = BinaryBuilder::with_capacity(text.len(), text.value_data().len());
                for row in 0..text.len() {
                    if text.is_null(row) || names.is_null(row) {
                        out.append_null();
                        continue;
                    }
                    let encoding =
                        Encoding::named(names.value(row), role).map_err(super::external)?;
                    out.append_value(encoding.write(text.value(row)).map_err(super::external)?);
                }
                Ok(Arc::new(out.finish()) as ArrayRef)
            }
        })
    }
}

/// `convert_from` and `convert_to`, and `substr`, `octet_length` and `bit_length` over
/// DataFusion's, registered by name.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(Convert::new(true)),
        ScalarUDF::from(Convert::new(false)),
        SUBSTRING.as_ref().clone(),
        ScalarUDF::from(ByteaAware::new(
            datafusion::functions::string::octet_length(),
            BinaryKind::OctetLength,
        )),
        ScalarUDF::from(ByteaAware::new(
            datafusion::functions::string::bit_length(),
            BinaryKind::BitLength,
        )),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_ranges_as_postgres() {
        assert_eq!(substring_range(4, 2, Some(2)).unwrap(), 1..3);
        assert_eq!(substring_range(4, 0, Some(2)).unwrap(), 0..1);
        assert_eq!(substring_range(4, -5, Some(2)).unwrap(), 0..0);
        assert_eq!(substring_range(4, 3, None).unwrap(), 2..4);
        assert_eq!(substring_range(4, 9, None).unwrap(), 4..4);
        assert!(substring_range(4, 1, Some(-1)).is_err());
    }

    #[test]
    fn reads_and_writes_encodings() {
        let utf8 = Encoding::named("utf-8", "source").unwrap();
        assert_eq!(utf8.read("é".as_bytes()).unwrap(), "é");
        let e = utf8.read(&[0x41, 0xff]).unwrap_err();
        assert_eq!(
            e.message,
            "invalid byte sequence for encoding \"UTF8\": 0xff"
        );
        let latin1 = Encoding::named("LATIN1", "source").unwrap();
        assert_eq!(latin1.write("é").unwrap(), vec![0xe9]);
        assert!(latin1.write("€").is_err());
        assert_eq!(
            Encoding::named("foo", "source").unwrap_err().kind,
            ErrorKind::InvalidParameterValue
        );
    }
}
