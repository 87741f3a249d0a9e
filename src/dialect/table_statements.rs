//! Spark's table statements that sqlparser does not parse: `SHOW TABLES [IN s] [LIKE 'p']`,
//! `SHOW COLUMNS IN t`, `SHOW CREATE TABLE t`, `DESCRIBE [TABLE] [EXTENDED] t` and `ALTER TABLE
//! t UNSET TBLPROPERTIES`. Each leaves the parser untouched when the statement is another one.

use sqlparser::ast::{Ident, ObjectName};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

use super::Statement;
use super::parser::word_at;

/// Spark's `SHOW TABLES [IN s] [LIKE 'p']`, `SHOW COLUMNS IN t [IN s]`, `SHOW CREATE TABLE t`
/// and `DESCRIBE [TABLE] [EXTENDED] t` (DESCRIBE HISTORY / DETAIL are parsed before).
pub(super) fn try_parse_introspection(
    parser: &mut Parser,
) -> Result<Option<Statement>, ParserError> {
    let in_or_from = |p: &mut Parser| {
        p.parse_one_of_keywords(&[Keyword::IN, Keyword::FROM])
            .is_some()
    };
    if word_at(parser, 0, "show") && word_at(parser, 1, "tables") {
        parser.next_token();
        parser.next_token();
        let schema = if in_or_from(parser) {
            Some(parser.parse_identifier()?)
        } else {
            None
        };
        let _ = parser.parse_keyword(Keyword::LIKE);
        let pattern = match parser.peek_token().token {
            Token::SingleQuotedString(s) => {
                parser.next_token();
                Some(s)
            }
            _ => None,
        };
        return Ok(Some(Statement::ShowTables { schema, pattern }));
    }
    if word_at(parser, 0, "show") && word_at(parser, 1, "columns") {
        parser.next_token();
        parser.next_token();
        if !in_or_from(parser) {
            return parser.expected("IN or FROM", parser.peek_token());
        }
        let mut table = parser.parse_object_name(false)?;
        if in_or_from(parser) {
            let schema = parser.parse_identifier()?;
            table = ObjectName::from(vec![
                schema,
                table
                    .0
                    .last()
                    .and_then(|p| p.as_ident())
                    .cloned()
                    .unwrap_or_else(|| Ident::new("")),
            ]);
        }
        return Ok(Some(Statement::ShowColumns { table }));
    }
    if word_at(parser, 0, "show") && word_at(parser, 1, "create") && word_at(parser, 2, "table") {
        for _ in 0..3 {
            parser.next_token();
        }
        let table = parser.parse_object_name(false)?;
        return Ok(Some(Statement::ShowCreateTable { table }));
    }
    let describe = word_at(parser, 0, "describe") || word_at(parser, 0, "desc");
    if describe {
        let mut n = 1;
        if word_at(parser, n, "table") {
            n += 1;
        }
        let extended = word_at(parser, n, "extended") || word_at(parser, n, "formatted");
        if extended {
            n += 1;
        }
        // `DESCRIBE <query>` stays DataFusion's.
        if word_at(parser, n, "select") || word_at(parser, n, "with") {
            return Ok(None);
        }
        for _ in 0..n {
            parser.next_token();
        }
        let table = parser.parse_object_name(false)?;
        return Ok(Some(Statement::DescribeTable { table, extended }));
    }
    Ok(None)
}

/// `ALTER TABLE [IF EXISTS] t UNSET TBLPROPERTIES [IF EXISTS] ('k', ...)`; leaves the parser
/// untouched for any other ALTER TABLE.
pub(super) fn try_parse_unset_tblproperties(
    parser: &mut Parser,
) -> Result<Option<Statement>, ParserError> {
    if !(word_at(parser, 0, "alter") && word_at(parser, 1, "table")) {
        return Ok(None);
    }
    // Find the word after the table name: `[IF EXISTS] name(.name)*`.
    let mut n = 2;
    if word_at(parser, n, "if") && word_at(parser, n + 1, "exists") {
        n += 2;
    }
    loop {
        if !matches!(parser.peek_nth_token(n).token, Token::Word(_)) {
            return Ok(None);
        }
        n += 1;
        if parser.peek_nth_token(n).token == Token::Period {
            n += 1;
        } else {
            break;
        }
    }
    if !(word_at(parser, n, "unset") && word_at(parser, n + 1, "tblproperties")) {
        return Ok(None);
    }
    parser.next_token();
    parser.next_token();
    let _ = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    let table = parser.parse_object_name(false)?;
    parser.next_token();
    parser.next_token();
    let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
    parser.expect_token(&Token::LParen)?;
    let keys = parser.parse_comma_separated(|p| {
        let token = p.next_token();
        match token.token {
            Token::SingleQuotedString(s) => Ok(s),
            Token::Word(w) => {
                let mut key = w.value;
                while p.consume_token(&Token::Period) {
                    key.push('.');
                    key.push_str(&p.parse_identifier()?.value);
                }
                Ok(key)
            }
            _ => p.expected("a property key", token),
        }
    })?;
    parser.expect_token(&Token::RParen)?;
    Ok(Some(Statement::UnsetTblProperties {
        table,
        keys,
        if_exists,
    }))
}
