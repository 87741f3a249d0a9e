//! PostgreSQL's COPY CSV format: fields split by the delimiter, quoted with the quote character
//! (a doubled quote inside quotes is one quote), records that may span lines inside quotes. An
//! unquoted field equal to the NULL string (empty by default) is NULL; a quoted one never is, so
//! `""` is the empty string. Decoded as bytes arrive, records may span CopyData messages.

use super::text::Fields;
use crate::error::{Error, ErrorKind, Result};

/// Where the decoder is inside a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// At the start of a field.
    #[default]
    FieldStart,
    /// In an unquoted part of a field.
    Unquoted,
    /// Inside quotes.
    Quoted,
    /// Just read a quote inside quotes: either its end or the first of a doubled quote.
    QuoteInQuoted,
}

/// Decodes CSV records from a stream of bytes.
#[derive(Debug)]
pub struct CsvDecoder {
    delimiter: u8,
    quote: u8,
    null: String,
    state: State,
    field: Vec<u8>,
    quoted: bool,
    record: Fields,
    ended: bool,
    line: u64,
    /// The field's last byte is a `\r` read outside quotes (the first half of a CRLF).
    trailing_cr: bool,
}

impl CsvDecoder {
    /// A decoder for the given delimiter, quote and NULL string.
    pub fn new(delimiter: u8, quote: u8, null: String) -> Self {
        Self {
            delimiter,
            quote,
            null,
            state: State::FieldStart,
            field: Vec::new(),
            quoted: false,
            record: Vec::new(),
            ended: false,
            line: 1,
            trailing_cr: false,
        }
    }

    /// The line the decoder is on (1-based), for error messages.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Bytes held for an unfinished record (bounded by the longest record).
    pub fn pending_len(&self) -> usize {
        self.field.len()
            + self
                .record
                .iter()
                .map(|f| f.as_ref().map_or(0, String::len))
                .sum::<usize>()
    }

    /// Feeds bytes; returns the records they complete, each with the line it ends on.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<(u64, Fields)>> {
        let mut records = Vec::new();
        for &b in bytes {
            if self.ended {
                break;
            }
            match self.state {
                State::Quoted => {
                    if b == self.quote {
                        self.state = State::QuoteInQuoted;
                    } else {
                        if b == b'\n' {
                            self.line += 1;
                        }
                        self.field.push(b);
                        self.trailing_cr = false;
                    }
                }
                State::QuoteInQuoted if b == self.quote => {
                    self.field.push(b);
                    self.trailing_cr = false;
                    self.state = State::Quoted;
                }
                _ => {
                    if b == self.quote {
                        self.quoted = true;
                        self.state = State::Quoted;
                    } else if b == self.delimiter {
                        self.end_field()?;
                    } else if b == b'\n' {
                        if let Some(record) = self.end_record()? {
                            records.push((self.line, record));
                        }
                        self.line += 1;
                    } else {
                        self.field.push(b);
                        self.trailing_cr = b == b'\r';
                        self.state = State::Unquoted;
                    }
                }
            }
        }
        Ok(records)
    }

    /// Ends the input: the last record when it has no line end; an error for an open quote.
    pub fn finish(&mut self) -> Result<Option<(u64, Fields)>> {
        if self.ended {
            return Ok(None);
        }
        if self.state == State::Quoted {
            return Err(Error::new(
                ErrorKind::BadCopyFileFormat,
                format!("COPY line {}: unterminated CSV quoted field", self.line),
            ));
        }
        if self.record.is_empty() && self.field.is_empty() && !self.quoted {
            return Ok(None);
        }
        Ok(self.end_record()?.map(|record| (self.line, record)))
    }

    fn end_field(&mut self) -> Result<()> {
        self.trailing_cr = false;
        let raw = std::mem::take(&mut self.field);
        let quoted = std::mem::replace(&mut self.quoted, false);
        self.state = State::FieldStart;
        let value = if !quoted && raw == self.null.as_bytes() {
            None
        } else {
            Some(String::from_utf8(raw).map_err(|_| {
                Error::new(
                    ErrorKind::InvalidTextRepresentation,
                    format!(
                        "COPY line {}: invalid byte sequence for encoding \"UTF8\"",
                        self.line
                    ),
                )
            })?)
        };
        self.record.push(value);
        Ok(())
    }

    fn end_record(&mut self) -> Result<Option<Fields>> {
        if std::mem::take(&mut self.trailing_cr) {
            self.field.pop();
        }
        // `\.` alone on a line ends the data.
        if self.record.is_empty() && !self.quoted && self.field == b"\\." {
            self.ended = true;
            self.field.clear();
            return Ok(None);
        }
        self.end_field()?;
        Ok(Some(std::mem::take(&mut self.record)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&str]) -> Vec<Fields> {
        let mut d = CsvDecoder::new(b',', b'"', String::new());
        let mut out = Vec::new();
        for c in chunks {
            out.extend(d.push(c.as_bytes()).unwrap().into_iter().map(|(_, r)| r));
        }
        out.extend(d.finish().unwrap().map(|(_, r)| r));
        out
    }

    #[test]
    fn quotes_nulls_and_records_across_chunks() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            decode(&[
                "1,\"a,b\",,\"\"\r\n2,\"say \"\"hi",
                "\"\"\",x\n3,\"two\nlines\",y"
            ]),
            vec![
                vec![s("1"), s("a,b"), None, s("")],
                vec![s("2"), s("say \"hi\""), s("x")],
                vec![s("3"), s("two\nlines"), s("y")],
            ]
        );
        assert_eq!(decode(&["1\n\\.\n2\n"]), vec![vec![s("1")]]);
    }

    #[test]
    fn an_open_quote_at_the_end_is_an_error() {
        let mut d = CsvDecoder::new(b',', b'"', String::new());
        d.push(b"1,\"open").unwrap();
        assert!(d.finish().is_err());
    }
}
