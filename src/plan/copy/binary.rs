//! PostgreSQL's binary COPY format (`COPY ... (FORMAT binary)`: psycopg's binary copy, pgcopy,
//! bulk loaders): the `PGCOPY` header, then per row a field count and each field as a length and
//! the value in the type's binary send form, then a -1 trailer.
//!
//! COPY TO encodes rows as the wire's binary DataRows do (arrow-pg), whose body is exactly a
//! COPY tuple. COPY FROM decodes each field by the target column's type into PostgreSQL's text
//! form, so the text and CSV loaders' checks and casts apply unchanged.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Schema};

use super::text::Fields;
use crate::error::{Error, ErrorKind, Result};

/// The 11-byte signature that starts every binary COPY stream.
const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";
/// Signature, flags and header-extension length.
const HEADER_LEN: usize = SIGNATURE.len() + 8;

/// The header a binary COPY TO starts with: no OIDs, no extension.
pub fn header() -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    out
}

/// The binary field layout of `schema`'s columns, for [`format_batch`].
pub fn fields(schema: &Schema) -> Result<Arc<Vec<pgwire::api::results::FieldInfo>>> {
    let fields = arrow_pg::datatypes::arrow_schema_to_pg_fields(
        schema,
        &pgwire::api::portal::Format::UnifiedBinary,
        None,
    )
    .map_err(|e| Error::unsupported(format!("COPY binary cannot write this column: {e}")))?;
    Ok(Arc::new(fields))
}

/// One batch as binary COPY tuples.
pub fn format_batch(
    batch: &RecordBatch,
    fields: &Arc<Vec<pgwire::api::results::FieldInfo>>,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for row in arrow_pg::datatypes::encode_recordbatch(fields.clone(), batch.clone()) {
        let row = row.map_err(|e| Error::internal(format!("COPY binary: {e}")))?;
        out.extend_from_slice(&row.field_count.to_be_bytes());
        out.extend_from_slice(&row.data);
    }
    Ok(out)
}

/// Decodes a binary COPY stream that arrives in arbitrary chunks.
pub struct BinaryDecoder {
    types: Vec<DataType>,
    pending: Vec<u8>,
    header_read: bool,
    ended: bool,
}

impl BinaryDecoder {
    /// A decoder for rows whose fields have `types` (the COPY's columns, in order).
    pub fn new(types: Vec<DataType>) -> Self {
        Self {
            types,
            pending: Vec::new(),
            header_read: false,
            ended: false,
        }
    }

    /// The rows completed by `bytes`, each numbered; `line` counts the rows read.
    pub fn push(&mut self, bytes: &[u8], line: &mut u64) -> Result<Vec<(u64, Fields)>> {
        self.pending.extend_from_slice(bytes);
        let mut pos = 0;
        if !self.header_read {
            if self.pending.len() < HEADER_LEN {
                return Ok(Vec::new());
            }
            if &self.pending[..SIGNATURE.len()] != SIGNATURE {
                return Err(bad_format("COPY file signature not recognized"));
            }
            let flags = be_u32(&self.pending[SIGNATURE.len()..]);
            if flags & (1 << 16) != 0 {
                return Err(bad_format("COPY binary data with OIDs is not supported"));
            }
            let extension = be_u32(&self.pending[SIGNATURE.len() + 4..]) as usize;
            if self.pending.len() < HEADER_LEN + extension {
                return Ok(Vec::new());
            }
            pos = HEADER_LEN + extension;
            self.header_read = true;
        }
        let mut rows = Vec::new();
        while let Some((row, next)) = self.tuple_at(pos, *line + 1)? {
            pos = next;
            if let Some(row) = row {
                *line += 1;
                rows.push((*line, row));
            }
        }
        self.pending.drain(..pos);
        Ok(rows)
    }

    /// The tuple starting at `pos` and where the next one starts, or None when it is not
    /// complete yet. The trailer yields no row.
    fn tuple_at(&mut self, pos: usize, line: u64) -> Result<Option<(Option<Fields>, usize)>> {
        let data = &self.pending;
        if data.len() < pos + 2 {
            return Ok(None);
        }
        if self.ended {
            return Err(bad_format(
                "received COPY data after the end-of-data marker",
            ));
        }
        let count = i16::from_be_bytes([data[pos], data[pos + 1]]);
        if count == -1 {
            self.ended = true;
            return Ok(Some((None, pos + 2)));
        }
        if count as usize != self.types.len() {
            return Err(bad_format(format!(
                "line {line}: row field count is {count}, expected {}",
                self.types.len()
            )));
        }
        let mut at = pos + 2;
        let mut fields = Vec::with_capacity(self.types.len());
        for data_type in &self.types {
            if data.len() < at + 4 {
                return Ok(None);
            }
            let length = i32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
            at += 4;
            if length < 0 {
                fields.push(None);
                continue;
            }
            let length = length as usize;
            if data.len() < at + length {
                return Ok(None);
            }
            let value = field_text(&data[at..at + length], data_type)
                .map_err(|e| Error::new(e.kind, format!("line {line}: {}", e.message)))?;
            fields.push(Some(value));
            at += length;
        }
        Ok(Some((Some(fields), at)))
    }

    /// CopyDone: the data must end at a row boundary (the trailer may be left out).
    pub fn finish(&mut self) -> Result<()> {
        if !self.header_read {
            return Err(bad_format("COPY file signature not recognized"));
        }
        if !self.pending.is_empty() {
            return Err(bad_format("unexpected end of data in binary COPY"));
        }
        Ok(())
    }

    /// Bytes held for a row not complete yet.
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

fn bad_format(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::BadCopyFileFormat, message)
}

fn be_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

fn be_i64(bytes: &[u8]) -> Result<i64> {
    let bytes: [u8; 8] = bytes.try_into().map_err(|_| {
        bad_format(format!(
            "a {}-byte value where 8 bytes are expected",
            bytes.len()
        ))
    })?;
    Ok(i64::from_be_bytes(bytes))
}

/// PostgreSQL's dates and timestamps count from 2000-01-01.
fn postgres_epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("a valid date")
}

/// One field's binary send form as PostgreSQL's text form of the column's type.
fn field_text(bytes: &[u8], data_type: &DataType) -> Result<String> {
    use DataType as D;
    Ok(match data_type {
        D::Boolean => match bytes {
            [0] => "false".into(),
            [_] => "true".into(),
            _ => return Err(bad_format("a boolean must be one byte")),
        },
        D::Int8 | D::Int16 | D::Int32 | D::Int64 | D::UInt8 | D::UInt16 | D::UInt32 | D::UInt64 => {
            match bytes.len() {
                1 => (bytes[0] as i8).to_string(),
                2 => i16::from_be_bytes([bytes[0], bytes[1]]).to_string(),
                4 => i32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]).to_string(),
                8 => be_i64(bytes)?.to_string(),
                n => return Err(bad_format(format!("an integer of {n} bytes"))),
            }
        }
        D::Float16 | D::Float32 | D::Float64 => match bytes.len() {
            4 => f32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]).to_string(),
            8 => f64::from_bits(be_i64(bytes)? as u64).to_string(),
            n => return Err(bad_format(format!("a float of {n} bytes"))),
        },
        D::Utf8 | D::LargeUtf8 | D::Utf8View => String::from_utf8(bytes.to_vec())
            .map_err(|_| bad_format("invalid byte sequence for encoding \"UTF8\""))?,
        D::Binary | D::LargeBinary | D::BinaryView | D::FixedSizeBinary(_) => {
            let mut text = String::with_capacity(2 + 2 * bytes.len());
            text.push_str("\\x");
            for b in bytes {
                text.push_str(&format!("{b:02x}"));
            }
            text
        }
        D::Date32 | D::Date64 => {
            let days = match bytes {
                [a, b, c, d] => i32::from_be_bytes([*a, *b, *c, *d]),
                _ => return Err(bad_format("a date must be 4 bytes")),
            };
            (postgres_epoch() + Duration::days(days.into()))
                .format("%Y-%m-%d")
                .to_string()
        }
        D::Timestamp(_, zone) => {
            let micros = be_i64(bytes)?;
            let at = postgres_epoch().and_hms_opt(0, 0, 0).expect("midnight")
                + Duration::microseconds(micros);
            let text = at.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
            if zone.is_some() {
                format!("{text}+00:00")
            } else {
                text
            }
        }
        D::Time64(_) | D::Time32(_) => {
            let micros = be_i64(bytes)?;
            let at = chrono::NaiveTime::MIN + Duration::microseconds(micros);
            at.format("%H:%M:%S%.6f").to_string()
        }
        D::Decimal32(..) | D::Decimal64(..) | D::Decimal128(..) | D::Decimal256(..) => {
            numeric_text(bytes)?
        }
        other => {
            return Err(Error::unsupported(format!(
                "COPY FROM in binary format does not support columns of type {other}; use text or csv"
            )));
        }
    })
}

/// PostgreSQL's binary numeric (digit count, weight, sign, display scale, then base-10000
/// digits) as decimal text.
fn numeric_text(bytes: &[u8]) -> Result<String> {
    let word = |i: usize| -> Result<u16> {
        bytes
            .get(2 * i..2 * i + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| bad_format("a numeric value is cut short"))
    };
    let ndigits = word(0)? as usize;
    let weight = word(1)? as i16 as i64;
    let sign = word(2)?;
    let scale = word(3)? as usize;
    let digits = (0..ndigits)
        .map(|i| word(4 + i))
        .collect::<Result<Vec<u16>>>()?;
    match sign {
        0x0000 | 0x4000 => {}
        0xC000 => return Ok("NaN".into()),
        _ => return Err(bad_format("a numeric value with an unknown sign")),
    }
    let digit = |i: i64| -> u16 {
        if i >= 0 && (i as usize) < digits.len() {
            digits[i as usize]
        } else {
            0
        }
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        for i in 0..=weight {
            if i == 0 {
                text.push_str(&digit(i).to_string());
            } else {
                text.push_str(&format!("{:04}", digit(i)));
            }
        }
    }
    if scale > 0 {
        let mut fraction = String::new();
        let mut i = weight + 1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        fraction.truncate(scale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numerics_decode_as_postgresql_writes_them() {
        // 12345.678: ndigits 3, weight 1, positive, scale 3, digits 1 2345 6780.
        let bytes: Vec<u8> = [3u16, 1, 0, 3, 1, 2345, 6780]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        assert_eq!(numeric_text(&bytes).unwrap(), "12345.678");
        // -0.05: ndigits 1, weight -1, negative, scale 2, digit 500.
        let bytes: Vec<u8> = [1u16, 0xFFFF, 0x4000, 2, 500]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        assert_eq!(numeric_text(&bytes).unwrap(), "-0.05");
        // 0 with scale 2: no digits.
        let bytes: Vec<u8> = [0u16, 0, 0, 2]
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect();
        assert_eq!(numeric_text(&bytes).unwrap(), "0.00");
    }
}
