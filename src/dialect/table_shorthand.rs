//! PostgreSQL's `TABLE name` (the SQL standard's explicit table, what `\copy` scripts and
//! tutorials use) as the `SELECT * FROM name` it means, wherever a query body may start: at a
//! statement's start, after `(` or `)` (a CTE list, an INSERT's columns), and after `UNION` / `EXCEPT` / `INTERSECT [ALL | DISTINCT]`.
//! sqlparser does not take it as a statement and DataFusion does not plan it inside one; so the
//! `TABLE` token becomes `SELECT * FROM` before parsing, and what follows (`ORDER BY`, `LIMIT`)
//! parses as it would after a SELECT.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::parser::{keyword_token, space_token};

/// `tokens` with every `TABLE` that starts a query body replaced by `SELECT * FROM`.
pub fn rewrite(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.iter().enumerate() {
        if is_keyword(&token.token, Keyword::TABLE)
            && starts_query_body(out.iter().rev().find(|t| !blank(&t.token)))
            && tokens[i + 1..]
                .iter()
                .find(|t| !blank(&t.token))
                .is_some_and(|t| matches!(t.token, Token::Word(_)))
        {
            let span = token.span;
            out.extend([
                keyword_token("SELECT", Keyword::SELECT, span),
                space_token(span),
                TokenWithSpan {
                    token: Token::Mul,
                    span,
                },
                space_token(span),
                keyword_token("FROM", Keyword::FROM, span),
            ]);
        } else {
            out.push(token.clone());
        }
    }
    out
}

fn blank(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

fn is_keyword(token: &Token, keyword: Keyword) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.keyword == keyword)
}

/// Whether a query body may start after `previous` (the last non-blank token, `None` at the
/// start of the text).
fn starts_query_body(previous: Option<&TokenWithSpan>) -> bool {
    let Some(previous) = previous else {
        return true;
    };
    // `)`: after a CTE list (`WITH x AS (...) TABLE x`) or an INSERT's columns.
    matches!(
        previous.token,
        Token::SemiColon | Token::LParen | Token::RParen
    ) || [
        Keyword::UNION,
        Keyword::EXCEPT,
        Keyword::INTERSECT,
        Keyword::ALL,
        Keyword::DISTINCT,
    ]
    .iter()
    .any(|k| is_keyword(&previous.token, *k))
}

#[cfg(test)]
mod tests {
    use sqlparser::tokenizer::Tokenizer;

    fn rewritten(sql: &str) -> String {
        let dialect = super::super::LakehouseDialect::default();
        let tokens = Tokenizer::new(&dialect, sql)
            .tokenize_with_location()
            .unwrap();
        super::rewrite(tokens)
            .iter()
            .map(|t| t.token.to_string())
            .collect()
    }

    #[test]
    fn table_starting_a_query_body_is_select_star() {
        assert_eq!(rewritten("TABLE t"), "SELECT * FROM t");
        assert_eq!(
            rewritten("table s.t ORDER BY 1; TABLE u"),
            "SELECT * FROM s.t ORDER BY 1; SELECT * FROM u"
        );
        assert_eq!(
            rewritten("SELECT 1 UNION ALL TABLE t"),
            "SELECT 1 UNION ALL SELECT * FROM t"
        );
        assert_eq!(
            rewritten("WITH x AS (TABLE t) TABLE x"),
            "WITH x AS (SELECT * FROM t) SELECT * FROM x"
        );
    }

    #[test]
    fn table_elsewhere_is_left_alone() {
        for sql in [
            "CREATE TABLE t (a int)",
            "DROP TABLE t",
            "ALTER TABLE t RENAME TO u",
            "TRUNCATE TABLE t",
            "SELECT \"table\" FROM t",
        ] {
            assert_eq!(rewritten(sql), sql);
        }
    }
}
