//! SQL scripts as files of statements: `${name}` parameters and splitting into statements.
//!
//! Pipeline stages and plan snapshots both read `.sql` files written for psql. Splitting uses the
//! SQL tokenizer, so semicolons inside strings, comments and quoted names do not cut a statement,
//! and each statement keeps its own text (sent as written to a server) and its line number (for
//! messages).

use std::collections::BTreeMap;

use sqlparser::tokenizer::{Token, Tokenizer};

use crate::dialect::LakehouseDialect;
use crate::error::{Error, ErrorKind, Result};

/// One statement of a script.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptStatement {
    /// The statement's text, without the terminating semicolon.
    pub sql: String,
    /// The 1-based line the statement starts on.
    pub line: usize,
}

/// Replaces every `${name}` with its value; an unknown name is an error naming it.
pub fn substitute(text: &str, params: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(Error::syntax("unterminated ${ in script"));
        };
        let name = after[..end].trim();
        match params.get(name) {
            Some(value) => out.push_str(value),
            None => {
                return Err(Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("parameter ${{{name}}} has no value"),
                )
                .with_hint(format!(
                    "pass --param {name}=VALUE or set it in the pipeline file"
                )));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The `${name}` parameters a script uses, in order of first use.
pub fn parameter_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim().to_string();
        if !names.contains(&name) {
            names.push(name);
        }
        rest = &after[end + 1..];
    }
    names
}

/// Splits a script into statements (empty statements and comment-only text are dropped).
pub fn split(text: &str) -> Result<Vec<ScriptStatement>> {
    let dialect = LakehouseDialect::default();
    let tokens = Tokenizer::new(&dialect, text)
        .tokenize_with_location()
        .map_err(|e| Error::syntax(e.to_string()))?;
    let offsets = LineOffsets::new(text);
    let mut statements = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte offset, line)
    for token in &tokens {
        match &token.token {
            Token::SemiColon => {
                if let Some((from, line)) = start.take() {
                    let to = offsets.byte(token.span.start.line, token.span.start.column);
                    push(&mut statements, &text[from..to], line);
                }
            }
            Token::Whitespace(_) => {}
            _ => {
                if start.is_none() {
                    start = Some((
                        offsets.byte(token.span.start.line, token.span.start.column),
                        token.span.start.line as usize,
                    ));
                }
            }
        }
    }
    if let Some((from, line)) = start {
        push(&mut statements, &text[from..], line);
    }
    Ok(statements)
}

fn push(statements: &mut Vec<ScriptStatement>, sql: &str, line: usize) {
    let sql = sql.trim();
    if !sql.is_empty() {
        statements.push(ScriptStatement {
            sql: sql.to_string(),
            line,
        });
    }
}

/// Byte offsets of (line, column) locations, columns counted in characters as the tokenizer does.
struct LineOffsets<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }

    fn byte(&self, line: u64, column: u64) -> usize {
        let Some(&start) = self.starts.get(line.saturating_sub(1) as usize) else {
            return self.text.len();
        };
        self.text[start..]
            .char_indices()
            .nth(column.saturating_sub(1) as usize)
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_semicolons_outside_strings_and_comments() {
        let script = "-- header; not a statement\nSELECT 'a;b';\n\n/* x; */ SELECT 2\n;\nSELECT 3";
        let statements = split(script).unwrap();
        assert_eq!(
            statements,
            vec![
                ScriptStatement {
                    sql: "SELECT 'a;b'".into(),
                    line: 2
                },
                ScriptStatement {
                    sql: "SELECT 2".into(),
                    line: 4
                },
                ScriptStatement {
                    sql: "SELECT 3".into(),
                    line: 6
                },
            ]
        );
    }

    #[test]
    fn substitutes_parameters_and_names_missing_ones() {
        let params = BTreeMap::from([("run_date".to_string(), "2024-01-01".to_string())]);
        assert_eq!(
            substitute("WHERE d = '${run_date}'", &params).unwrap(),
            "WHERE d = '2024-01-01'"
        );
        let err = substitute("${input_dir}/x", &params).unwrap_err();
        assert!(err.message.contains("input_dir"), "{}", err.message);
        assert_eq!(parameter_names("${a} ${b} ${a}"), vec!["a", "b"]);
    }
}
