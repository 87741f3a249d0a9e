//! PostgreSQL's COPY text format: one line per row, fields split by the delimiter, backslash
//! escapes (`\t`, `\n`, `\\`, `\N`, octal and hex bytes), and `\.` as an optional end marker.
//! What psql's `\copy` sends and PostgreSQL's `COPY ... TO STDOUT` writes; quotes mean nothing.

use crate::error::{Error, ErrorKind, Result};

/// One decoded row: a value per field, None for the NULL marker.
pub type Fields = Vec<Option<String>>;

/// Splits one line (without its line end) into fields and decodes each.
///
/// A field equal to the NULL marker as written (before escapes are decoded, as in PostgreSQL)
/// is NULL; `\N` therefore stays NULL and `\\N` is the text `\N`.
pub fn decode_line(line: &[u8], delimiter: u8, null: &str, line_number: u64) -> Result<Fields> {
    let mut fields = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i <= line.len() {
        if i == line.len() || line[i] == delimiter {
            fields.push(decode_field(&line[start..i], null, line_number)?);
            start = i + 1;
        } else if line[i] == b'\\' {
            // An escaped character never splits a field.
            i += 1;
        }
        i += 1;
    }
    Ok(fields)
}

fn decode_field(raw: &[u8], null: &str, line_number: u64) -> Result<Option<String>> {
    if raw == null.as_bytes() {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        i += 1;
        let Some(&c) = raw.get(i) else {
            // A trailing lone backslash: PostgreSQL keeps it.
            out.push(b'\\');
            break;
        };
        i += 1;
        match c {
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut value = u32::from(c - b'0');
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            b'x' if raw.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut value = 0u32;
                for _ in 0..2 {
                    match raw.get(i) {
                        Some(d) if d.is_ascii_hexdigit() => {
                            value = value * 16 + (*d as char).to_digit(16).unwrap_or(0);
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(value as u8);
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).map(Some).map_err(|_| {
        Error::new(
            ErrorKind::InvalidTextRepresentation,
            format!("COPY line {line_number}: invalid byte sequence for encoding \"UTF8\""),
        )
    })
}

/// Appends one field in text format: NULL as the marker, text with `\`, line ends, tabs and the
/// delimiter escaped.
pub fn encode_field(out: &mut Vec<u8>, value: Option<&str>, delimiter: u8, null: &str) {
    let Some(value) = value else {
        out.extend_from_slice(null.as_bytes());
        return;
    };
    for &b in value.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' if delimiter == b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0b => out.extend_from_slice(b"\\v"),
            d if d == delimiter => {
                out.push(b'\\');
                out.push(d);
            }
            other => out.push(other),
        }
    }
}

/// Splits a stream of bytes into lines as they arrive (a line may span CopyData messages), and
/// stops at the `\.` end marker.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    ended: bool,
}

impl LineSplitter {
    /// Feeds bytes; returns the complete lines they finish (without line ends).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        if self.ended {
            return lines;
        }
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(offset) = self.pending[start..].iter().position(|b| *b == b'\n') {
            let end = start + offset;
            let mut line = &self.pending[start..end];
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            start = end + 1;
            if line == b"\\." {
                self.ended = true;
                break;
            }
            lines.push(line.to_vec());
        }
        self.pending.drain(..start);
        if self.ended {
            self.pending.clear();
        }
        lines
    }

    /// The last line when the data does not end with a line end.
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let rest = std::mem::take(&mut self.pending);
        (!self.ended && !rest.is_empty() && rest != b"\\.").then_some(rest)
    }

    /// Bytes held for an unfinished line (bounded by the longest line).
    pub fn pending_len(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(line: &str) -> Fields {
        decode_line(line.as_bytes(), b'\t', "\\N", 1).unwrap()
    }

    #[test]
    fn escapes_and_null_decode_as_postgresql_does() {
        assert_eq!(
            decode("a\\tb\t\\N\t\\\\N\t\"q\"\t\\101\\x41\t"),
            vec![
                Some("a\tb".into()),
                None,
                Some("\\N".into()),
                Some("\"q\"".into()),
                Some("AA".into()),
                Some(String::new()),
            ]
        );
        // An escaped delimiter is data.
        assert_eq!(
            decode_line(b"a\\|b|c", b'|', "\\N", 1).unwrap(),
            vec![Some("a|b".into()), Some("c".into())]
        );
    }

    #[test]
    fn encoding_round_trips() {
        let values = [Some("tab\there"), None, Some("back\\slash\nnew"), Some("")];
        let mut line = Vec::new();
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                line.push(b'\t');
            }
            encode_field(&mut line, *v, b'\t', "\\N");
        }
        assert_eq!(line, b"tab\\there\t\\N\tback\\\\slash\\nnew\t");
        let decoded = decode_line(&line, b'\t', "\\N", 1).unwrap();
        assert_eq!(
            decoded,
            values
                .iter()
                .map(|v| v.map(str::to_string))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn lines_span_chunks_and_stop_at_the_end_marker() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"1\tone\n2\tt"), vec![b"1\tone".to_vec()]);
        assert_eq!(s.push(b"wo\r\n\\.\n3\tignored\n"), vec![b"2\ttwo".to_vec()]);
        assert_eq!(s.finish(), None);
        let mut s = LineSplitter::default();
        assert!(s.push(b"last line without end").is_empty());
        assert_eq!(s.finish(), Some(b"last line without end".to_vec()));
    }
}
