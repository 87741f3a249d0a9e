//! The replacement text of `regexp_replace(s, pattern, replacement [, flags])` read as
//! PostgreSQL reads it. PostgreSQL knows `\1` .. `\9` (a group), `\&` (the whole match) and `\\`
//! (a backslash); every other character, `$` included, is itself. DataFusion hands the text to
//! Rust's regex crate after turning `\N` into `${N}`, so `$1` and `$name` were groups
//! (`regexp_replace('abc', 'b', '$1x')` gave `ac`; PostgreSQL: `a$1xc`), `\\` stayed two
//! backslashes and `\&` was written as it is. The dialect plans the replacement as
//! `pg_regexp_replacement(replacement)`, which writes it in Rust's syntax: groups as `${N}`,
//! the whole match as `${0}`, `$` as `$$`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

/// The function's name, for the dialect's rewrite.
pub const PG_REGEXP_REPLACEMENT: &str = "pg_regexp_replacement";

/// `pg_regexp_replacement(text)`: see the module header.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RegexpReplacement {
    signature: Signature,
}

impl RegexpReplacement {
    /// The function.
    pub fn new() -> Self {
        Self {
            signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for RegexpReplacement {
    fn name(&self) -> &str {
        PG_REGEXP_REPLACEMENT
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let texts = arrays[0].as_string::<i32>();
            let mut out = StringBuilder::with_capacity(texts.len(), texts.len() * 8);
            for row in 0..texts.len() {
                if texts.is_valid(row) {
                    out.append_value(rust_replacement(texts.value(row)));
                } else {
                    out.append_null();
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// A literal backslash. DataFusion reads a backslash before digits as a group (`\1`); before a
/// digit it is followed by `${_}`, a group no PostgreSQL pattern has (it has no named groups),
/// which the regex crate writes as nothing.
fn push_backslash(out: &mut String, next: Option<char>) {
    out.push('\\');
    if next.is_some_and(|c| c.is_ascii_digit()) {
        out.push_str("${_}");
    }
}

/// PostgreSQL's replacement text in the regex crate's syntax.
fn rust_replacement(pg: &str) -> String {
    let mut out = String::with_capacity(pg.len() + 4);
    let mut chars = pg.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek().copied() {
                Some(d @ '1'..='9') => {
                    chars.next();
                    out.push_str(&format!("${{{d}}}"));
                }
                Some('&') => {
                    chars.next();
                    out.push_str("${0}");
                }
                Some('\\') => {
                    chars.next();
                    push_backslash(&mut out, chars.peek().copied());
                }
                next => push_backslash(&mut out, next),
            },
            '$' => out.push_str("$$"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_replacements_in_the_regex_crates_syntax() {
        assert_eq!(rust_replacement(r"<\1>"), "<${1}>");
        assert_eq!(rust_replacement(r"[\&]"), "[${0}]");
        assert_eq!(rust_replacement(r"\\"), r"\");
        assert_eq!(rust_replacement("$1x"), "$$1x");
        assert_eq!(rust_replacement(r"a\qb"), r"a\qb");
        assert_eq!(rust_replacement(r"\2\1"), "${2}${1}");
        assert_eq!(rust_replacement(r"\\1"), r"\${_}1");
        assert_eq!(rust_replacement(r"\0"), r"\${_}0");
    }
}
