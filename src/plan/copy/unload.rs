//! COPY TO STDOUT: record batches as PostgreSQL's text or CSV format, values written as
//! PostgreSQL writes them (`t`/`f`, `\x` bytea, `{a,b}` arrays, ISO dates and times).

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, LargeBinaryArray, RecordBatch,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use super::CopyFormat;
use super::text::encode_field;
use crate::error::Result;

/// One batch in `format`, with the column names first when `header`.
pub fn format_batch(batch: &RecordBatch, format: &CopyFormat, header: bool) -> Result<Vec<u8>> {
    let columns = batch
        .columns()
        .iter()
        .map(pg_text)
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::new();
    if header {
        let schema = batch.schema();
        let names: Vec<Option<&str>> = schema
            .fields()
            .iter()
            .map(|f| Some(f.name().as_str()))
            .collect();
        write_row(&mut out, &names, format);
    }
    for row in 0..batch.num_rows() {
        let values: Vec<Option<&str>> = columns.iter().map(|c| c[row].as_deref()).collect();
        write_row(&mut out, &values, format);
    }
    Ok(out)
}

fn write_row(out: &mut Vec<u8>, values: &[Option<&str>], format: &CopyFormat) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(format.delimiter);
        }
        if format.csv {
            csv_field(out, *value, format);
        } else {
            encode_field(out, *value, format.delimiter, &format.null);
        }
    }
    out.push(b'\n');
}

/// A CSV field: NULL as the NULL string unquoted; a value quoted when it holds the delimiter,
/// the quote, a line end, or would read back as NULL (so the empty string is `""`).
fn csv_field(out: &mut Vec<u8>, value: Option<&str>, format: &CopyFormat) {
    let Some(value) = value else {
        out.extend_from_slice(format.null.as_bytes());
        return;
    };
    let needs_quotes = value == format.null
        || value == "\\."
        || value
            .bytes()
            .any(|b| b == format.delimiter || b == format.quote || b == b'\n' || b == b'\r');
    if !needs_quotes {
        out.extend_from_slice(value.as_bytes());
        return;
    }
    out.push(format.quote);
    for b in value.bytes() {
        if b == format.quote {
            out.push(format.quote);
        }
        out.push(b);
    }
    out.push(format.quote);
}

/// Every value of a column in PostgreSQL's text form (None for NULL).
pub fn pg_text(array: &ArrayRef) -> Result<Vec<Option<String>>> {
    let n = array.len();
    let valid = |i: usize| array.is_valid(i);
    Ok(match array.data_type() {
        DataType::Boolean => {
            let values: &BooleanArray = array.as_boolean();
            (0..n)
                .map(|i| valid(i).then(|| if values.value(i) { "t" } else { "f" }.to_string()))
                .collect()
        }
        DataType::Binary => {
            let values: &BinaryArray = array.as_binary();
            (0..n)
                .map(|i| valid(i).then(|| hex_bytea(values.value(i))))
                .collect()
        }
        DataType::LargeBinary => {
            let values: &LargeBinaryArray = array.as_binary();
            (0..n)
                .map(|i| valid(i).then(|| hex_bytea(values.value(i))))
                .collect()
        }
        DataType::BinaryView => {
            let values = array.as_binary_view();
            (0..n)
                .map(|i| valid(i).then(|| hex_bytea(values.value(i))))
                .collect()
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            (0..n)
                .map(|i| valid(i).then(|| pg_array(&list.value(i))).transpose())
                .collect::<Result<_>>()?
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            (0..n)
                .map(|i| valid(i).then(|| pg_array(&list.value(i))).transpose())
                .collect::<Result<_>>()?
        }
        DataType::Float32 | DataType::Float64 => {
            let formatter = ArrayFormatter::try_new(array.as_ref(), &options())?;
            (0..n)
                .map(|i| valid(i).then(|| pg_float(&formatter.value(i).to_string())))
                .collect()
        }
        _ => {
            let formatter = ArrayFormatter::try_new(array.as_ref(), &options())?;
            (0..n)
                .map(|i| valid(i).then(|| formatter.value(i).to_string()))
                .collect()
        }
    })
}

fn options() -> FormatOptions<'static> {
    FormatOptions::default()
        .with_date_format(Some("%Y-%m-%d"))
        .with_datetime_format(Some("%Y-%m-%d %H:%M:%S%.f"))
        .with_timestamp_format(Some("%Y-%m-%d %H:%M:%S%.f"))
        .with_timestamp_tz_format(Some("%Y-%m-%d %H:%M:%S%.f%:z"))
}

/// `inf`, `-inf`, `NaN` and exponents as PostgreSQL spells them.
fn pg_float(text: &str) -> String {
    match text {
        "inf" => "Infinity".into(),
        "-inf" => "-Infinity".into(),
        "NaN" => "NaN".into(),
        other => match other.split_once('e') {
            Some((mantissa, exponent)) if !exponent.starts_with('-') => {
                format!("{mantissa}e+{exponent}")
            }
            // `2.0` is `2` in PostgreSQL.
            _ => other.strip_suffix(".0").unwrap_or(other).to_string(),
        },
    }
}

fn hex_bytea(bytes: &[u8]) -> String {
    format!("\\x{}", hex::encode(bytes))
}

/// `{1,2,NULL}`, with elements quoted as PostgreSQL quotes them.
fn pg_array(values: &ArrayRef) -> Result<String> {
    let elements = pg_text(values)?;
    let mut s = String::from("{");
    for (i, element) in elements.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        match element {
            None => s.push_str("NULL"),
            Some(e) => {
                let quote = e.is_empty()
                    || e.eq_ignore_ascii_case("null")
                    || e.chars()
                        .any(|c| matches!(c, ',' | '{' | '}' | '"' | '\\') || c.is_whitespace());
                if quote && !e.starts_with('{') {
                    s.push('"');
                    for c in e.chars() {
                        if c == '"' || c == '\\' {
                            s.push('\\');
                        }
                        s.push(c);
                    }
                    s.push('"');
                } else {
                    s.push_str(e);
                }
            }
        }
    }
    s.push('}');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int32Array, ListArray, StringArray};
    use datafusion::arrow::datatypes::Int32Type;

    use super::*;

    #[test]
    fn values_are_written_as_postgresql_writes_them() {
        let b: ArrayRef = Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)]));
        assert_eq!(
            pg_text(&b).unwrap(),
            vec![Some("t".into()), None, Some("f".into())]
        );
        let f: ArrayRef = Arc::new(Float64Array::from(vec![1.5, f64::INFINITY, 1e20, 2.0]));
        assert_eq!(
            pg_text(&f).unwrap(),
            vec![
                Some("1.5".into()),
                Some("Infinity".into()),
                Some("1e+20".into()),
                Some("2".into())
            ]
        );
        let l: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
        ]));
        assert_eq!(pg_text(&l).unwrap(), vec![Some("{1,NULL,3}".into())]);
        let i: ArrayRef = Arc::new(Int32Array::from(vec![7]));
        assert_eq!(pg_text(&i).unwrap(), vec![Some("7".into())]);
    }

    #[test]
    fn csv_quotes_only_what_needs_it() {
        let format = CopyFormat {
            binary: false,
            csv: true,
            delimiter: b',',
            null: String::new(),
            header: false,
            quote: b'"',
        };
        let batch = RecordBatch::try_from_iter(vec![(
            "v",
            Arc::new(StringArray::from(vec![
                Some("plain"),
                Some(""),
                None,
                Some("a,b"),
                Some("say \"hi\""),
            ])) as ArrayRef,
        )])
        .unwrap();
        let out = format_batch(&batch, &format, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plain\n\"\"\n\n\"a,b\"\n\"say \"\"hi\"\"\"\n"
        );
    }
}
