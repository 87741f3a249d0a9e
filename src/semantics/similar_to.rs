//! `x SIMILAR TO pattern [ESCAPE e]` as PostgreSQL 15 reads it. DataFusion took the pattern as a
//! bare regular expression, unanchored and without `%` and `_`: `'abc' SIMILAR TO 'a%'` was false
//! and `'xy' SIMILAR TO 'x|y'` true. The dialect plans it as `x ~ similar_to_escape(pattern [,
//! e])`, PostgreSQL's own function that turns a SQL regular expression into a POSIX one: the
//! whole text must match, `%` is any text, `_` any character, `.`, `^` and `$` are themselves,
//! the escape character (backslash unless given; none for `ESCAPE ''`) makes the next character
//! literal, and `|`, `*`, `+`, `?`, `{m,n}`, `( )` and `[ ]` keep their regular-expression
//! meaning.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use crate::error::ErrorKind;

/// `similar_to_escape(pattern [, escape])`: see the module header.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SimilarToEscape {
    signature: Signature,
}

impl SimilarToEscape {
    /// The function.
    pub fn new() -> Self {
        Self {
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![DataType::Utf8]),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Utf8]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for SimilarToEscape {
    fn name(&self) -> &str {
        "similar_to_escape"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        super::over_arrays(&args, |arrays| {
            let patterns = arrays[0].as_string::<i32>();
            let escapes = arrays.get(1).map(|a| a.as_string::<i32>());
            let mut out = StringBuilder::with_capacity(patterns.len(), patterns.len() * 16);
            for row in 0..patterns.len() {
                let escape = match escapes {
                    None => Some(Some('\\')),
                    Some(e) if e.is_null(row) => None,
                    Some(e) => Some(escape_char(e.value(row))?),
                };
                match (patterns.is_valid(row), escape) {
                    (true, Some(escape)) => {
                        out.append_value(regex_of(patterns.value(row), escape)?)
                    }
                    _ => out.append_null(),
                }
            }
            Ok(Arc::new(out.finish()) as ArrayRef)
        })
    }
}

/// The escape character (`None` for `''`); more than one is PostgreSQL's 22019.
fn escape_char(text: &str) -> Result<Option<char>> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (None, _) => Ok(None),
        (Some(c), None) => Ok(Some(c)),
        _ => Err(super::pg_error(
            ErrorKind::InvalidParameterValue,
            "invalid escape string",
        )),
    }
}

/// The POSIX regular expression of a SQL one (PostgreSQL's `similar_escape_internal`).
fn regex_of(pattern: &str, escape: Option<char>) -> Result<String> {
    let mut out = String::with_capacity(pattern.len() + 12);
    out.push_str("^(?s:");
    let mut escaping = false;
    let mut in_bracket = false;
    for c in pattern.chars() {
        if escaping {
            push_literal(&mut out, c);
            escaping = false;
        } else if Some(c) == escape {
            escaping = true;
        } else if in_bracket {
            if c == '\\' {
                out.push_str("\\\\");
            } else {
                out.push(c);
            }
            if c == ']' {
                in_bracket = false;
            }
        } else {
            match c {
                '[' => {
                    in_bracket = true;
                    out.push(c);
                }
                '%' => out.push_str(".*"),
                '_' => out.push('.'),
                '|' | '*' | '+' | '?' | '{' | '}' | '(' | ')' => out.push(c),
                other => push_literal(&mut out, other),
            }
        }
    }
    if escaping {
        return Err(super::pg_error(
            ErrorKind::InvalidParameterValue,
            "invalid escape string",
        ));
    }
    out.push_str(")$");
    Ok(out)
}

/// `c` matching itself in a regular expression.
fn push_literal(out: &mut String, c: char) {
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        out.push('\\');
    }
    out.push(c);
}

#[cfg(test)]
mod tests {
    use super::regex_of;

    #[test]
    fn sql_patterns_become_anchored_regular_expressions() {
        assert_eq!(regex_of("a%", Some('\\')).unwrap(), "^(?s:a.*)$");
        assert_eq!(regex_of("%(,|;)_", Some('\\')).unwrap(), "^(?s:.*(,|;).)$");
        assert_eq!(regex_of("a.b\\%", Some('\\')).unwrap(), "^(?s:a\\.b%)$");
        assert_eq!(regex_of("a#_[%_]", Some('#')).unwrap(), "^(?s:a_[%_])$");
        assert!(regex_of("a\\", Some('\\')).is_err());
    }
}
