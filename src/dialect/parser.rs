//! Splits SQL text into [`Statement`]s: our lakehouse forms first, sqlparser for the rest.

use sqlparser::ast::Value;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Word};

use super::{CloneOf, CreateTable, LakehouseDialect, STAR_COLUMN, Statement, TimeTravel};
use crate::error::{Error, Result};

/// Parses one or more `;`-separated statements of our dialect. Depends on sqlparser alone (the
/// statement-parser fuzz target compiles this file on its own).
pub fn parse_statements(sql: &str) -> Result<Vec<Statement>> {
    let dialect = LakehouseDialect::default();
    let tokens = Tokenizer::new(&dialect, sql)
        .with_unescape(true)
        .tokenize_with_location()
        .map_err(|e| Error::syntax(format!("syntax error: {e}")))?;
    let tokens = super::table_shorthand::rewrite(rewrite_identity_option_order(
        rewrite_version_shorthand(rewrite_merge_stars(tokens)?),
    ));
    let mut parser = Parser::new(&dialect).with_tokens_with_locations(tokens);
    let mut statements = Vec::new();
    let mut expecting_delimiter = false;
    loop {
        while parser.consume_token(&Token::SemiColon) {
            expecting_delimiter = false;
        }
        if parser.peek_token().token == Token::EOF {
            break;
        }
        if expecting_delimiter {
            return Err(parser
                .expected::<()>("end of statement", parser.peek_token())
                .unwrap_err()
                .into());
        }
        let statement = parse_statement(&mut parser)?;
        check_depth(&statement)?;
        statements.push(statement);
        expecting_delimiter = true;
    }
    Ok(statements)
}

/// Deepest expression nesting accepted. Planning recurses once per level (a chain of 10,000
/// `a + b + ...` overflowed 64 MiB of stack in a debug build); PostgreSQL refuses such statements
/// with 54001 too.
pub const MAX_EXPRESSION_DEPTH: usize = 3_000;

/// Refuses statements whose expressions nest deeper than [`MAX_EXPRESSION_DEPTH`].
fn check_depth(statement: &Statement) -> Result<()> {
    use sqlparser::ast::{Expr, Visit, Visitor};
    use std::ops::ControlFlow;
    struct Depth {
        current: usize,
    }
    impl Visitor for Depth {
        type Break = ();
        fn pre_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
            self.current += 1;
            if self.current > MAX_EXPRESSION_DEPTH {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
        fn post_visit_expr(&mut self, _expr: &Expr) -> ControlFlow<()> {
            self.current -= 1;
            ControlFlow::Continue(())
        }
    }
    let Statement::Sql(sql) = statement else {
        return Ok(());
    };
    match sql.visit(&mut Depth { current: 0 }) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(Error::new(
            crate::error::ErrorKind::StatementTooComplex,
            format!(
                "statement is too complex: expressions nest more than {MAX_EXPRESSION_DEPTH} levels deep"
            ),
        )
        .with_hint("split the expression, or use IN (...) instead of long OR / + chains")),
    }
}

fn parse_statement(parser: &mut Parser) -> Result<Statement, ParserError> {
    if let Some(create) = try_parse_create_table(parser)? {
        return Ok(Statement::CreateTable(Box::new(create)));
    }
    if let Some(statement) = try_parse_lakehouse(parser)? {
        return Ok(statement);
    }
    Ok(Statement::Sql(Box::new(parser.parse_statement()?)))
}

/// Whether the n-th next (non-whitespace) token is the word `word` (any case, quoted or not).
pub(super) fn word_at(parser: &Parser, n: usize, word: &str) -> bool {
    matches!(parser.peek_nth_token(n).token, Token::Word(ref w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// DESCRIBE HISTORY / DETAIL, RESTORE, VACUUM, INSERT ... REPLACE WHERE, MERGE WITH SCHEMA EVOLUTION.
fn try_parse_lakehouse(parser: &mut Parser) -> Result<Option<Statement>, ParserError> {
    let describe = word_at(parser, 0, "describe") || word_at(parser, 0, "desc");
    if describe && word_at(parser, 1, "history") {
        parser.next_token();
        parser.next_token();
        let table = parser.parse_object_name(false)?;
        let limit = if parser.parse_keyword(Keyword::LIMIT) {
            Some(parse_u64(parser)?)
        } else {
            None
        };
        return Ok(Some(Statement::DescribeHistory { table, limit }));
    }
    if describe && word_at(parser, 1, "detail") {
        parser.next_token();
        parser.next_token();
        let table = parser.parse_object_name(false)?;
        return Ok(Some(Statement::DescribeDetail { table }));
    }
    // PostgreSQL's `RESET TIME ZONE` (sqlparser reads one name after RESET): `RESET timezone`.
    if word_at(parser, 0, "reset") && word_at(parser, 1, "time") && word_at(parser, 2, "zone") {
        for _ in 0..3 {
            parser.next_token();
        }
        return Ok(Some(Statement::Sql(Box::new(
            sqlparser::ast::Statement::Reset(sqlparser::ast::ResetStatement {
                reset: sqlparser::ast::Reset::ConfigurationParameter(
                    sqlparser::ast::ObjectName::from(vec![sqlparser::ast::Ident::new("timezone")]),
                ),
            }),
        ))));
    }
    if word_at(parser, 0, "alter") && word_at(parser, 1, "view") {
        parser.next_token();
        parser.next_token();
        let if_exists = parser.parse_keywords(&[Keyword::IF, Keyword::EXISTS]);
        let name = parser.parse_object_name(false)?;
        if !parser.parse_keywords(&[Keyword::RENAME, Keyword::TO]) {
            return Err(ParserError::ParserError(
                "ALTER VIEW supports RENAME TO here; to change a view's query use CREATE OR REPLACE VIEW"
                    .into(),
            ));
        }
        let to = parser.parse_object_name(false)?;
        return Ok(Some(Statement::AlterViewRename {
            name,
            if_exists,
            to,
        }));
    }
    if let Some(statement) = super::table_statements::try_parse_introspection(parser)? {
        return Ok(Some(statement));
    }
    if let Some(statement) = super::table_statements::try_parse_unset_tblproperties(parser)? {
        return Ok(Some(statement));
    }
    if word_at(parser, 0, "convert") && word_at(parser, 1, "to") && word_at(parser, 2, "delta") {
        for _ in 0..3 {
            parser.next_token();
        }
        let name = parser.parse_object_name(false)?;
        let location = match name.0.as_slice() {
            [format, path]
                if format
                    .as_ident()
                    .is_some_and(|f| f.value.eq_ignore_ascii_case("parquet")) =>
            {
                path.as_ident().map(|p| p.value.clone()).unwrap_or_default()
            }
            _ => {
                return Err(ParserError::ParserError(format!(
                    "CONVERT TO DELTA takes parquet.`/path/to/folder`, not {name}"
                )));
            }
        };
        let mut partitioned_by = Vec::new();
        if parser.parse_keywords(&[Keyword::PARTITIONED, Keyword::BY]) {
            parser.expect_token(&Token::LParen)?;
            partitioned_by = parser.parse_comma_separated(|p| p.parse_column_def())?;
            parser.expect_token(&Token::RParen)?;
        }
        return Ok(Some(Statement::ConvertToDelta {
            location,
            partitioned_by,
        }));
    }
    if word_at(parser, 0, "restore") {
        parser.next_token();
        let _ = parser.parse_keyword(Keyword::TABLE);
        let table = parser.parse_object_name(false)?;
        parser.expect_keyword(Keyword::TO)?;
        let to = if parser.parse_keywords(&[Keyword::VERSION, Keyword::AS, Keyword::OF]) {
            TimeTravel::Version(parser.parse_expr()?)
        } else if parser.parse_keywords(&[Keyword::TIMESTAMP, Keyword::AS, Keyword::OF]) {
            TimeTravel::Timestamp(parser.parse_expr()?)
        } else {
            return parser.expected("VERSION AS OF or TIMESTAMP AS OF", parser.peek_token());
        };
        return Ok(Some(Statement::Restore { table, to }));
    }
    if word_at(parser, 0, "vacuum") {
        parser.next_token();
        let table = parser.parse_object_name(false)?;
        let mut retain_hours = None;
        if parser.parse_keyword(Keyword::RETAIN) {
            let hours = match parser.parse_number_value()?.value {
                Value::Number(n, _) => n
                    .parse::<f64>()
                    .map_err(|_| ParserError::ParserError(format!("invalid RETAIN value {n}")))?,
                other => {
                    return Err(ParserError::ParserError(format!(
                        "invalid RETAIN value {other}"
                    )));
                }
            };
            if !word_at(parser, 0, "hours") {
                return parser.expected("HOURS", parser.peek_token());
            }
            parser.next_token();
            retain_hours = Some(hours);
        }
        let dry_run = if word_at(parser, 0, "dry") && word_at(parser, 1, "run") {
            parser.next_token();
            parser.next_token();
            true
        } else {
            false
        };
        return Ok(Some(Statement::Vacuum {
            table,
            retain_hours,
            dry_run,
        }));
    }
    if word_at(parser, 0, "insert") && word_at(parser, 1, "into") {
        // INSERT INTO t REPLACE WHERE pred query: look past the table name for REPLACE WHERE.
        let mut n = 2;
        while matches!(
            parser.peek_nth_token(n).token,
            Token::Word(_) | Token::Period
        ) {
            n += 1;
            if word_at(parser, n, "replace") && word_at(parser, n + 1, "where") {
                parser.next_token();
                parser.next_token();
                let table = parser.parse_object_name(false)?;
                parser.next_token();
                parser.next_token();
                let predicate = parser.parse_expr()?;
                let query = parser.parse_query()?;
                return Ok(Some(Statement::InsertReplaceWhere {
                    table,
                    predicate,
                    query,
                }));
            }
        }
    }
    if word_at(parser, 0, "merge") {
        let merge_token = parser.next_token();
        let schema_evolution = if word_at(parser, 0, "with")
            && word_at(parser, 1, "schema")
            && word_at(parser, 2, "evolution")
        {
            parser.next_token();
            parser.next_token();
            parser.next_token();
            true
        } else {
            false
        };
        let merge = parser.parse_merge(merge_token)?;
        return Ok(Some(Statement::Merge {
            merge: Box::new(sqlparser::ast::Statement::Merge(merge)),
            schema_evolution,
        }));
    }
    Ok(None)
}

fn parse_u64(parser: &mut Parser) -> Result<u64, ParserError> {
    match parser.parse_number_value()?.value {
        Value::Number(n, _) => n.parse::<u64>().map_err(|_| {
            ParserError::ParserError(format!("expected a non-negative integer, found {n}"))
        }),
        other => Err(ParserError::ParserError(format!(
            "expected a non-negative integer, found {other}"
        ))),
    }
}

/// `AS IDENTITY (START WITH n INCREMENT BY m)`, the order PostgreSQL's documentation and
/// Databricks write, becomes `(INCREMENT BY m START WITH n)`: sqlparser takes a sequence's
/// options only in the order of PostgreSQL's CREATE SEQUENCE synopsis.
fn rewrite_identity_option_order(mut tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let keyword =
        |t: &TokenWithSpan, k: Keyword| matches!(&t.token, Token::Word(w) if w.keyword == k);
    let mut i = 0;
    while i < tokens.len() {
        if !keyword(&tokens[i], Keyword::IDENTITY) {
            i += 1;
            continue;
        }
        let open =
            (i + 1..tokens.len()).find(|&j| !matches!(tokens[j].token, Token::Whitespace(_)));
        let Some(open) = open.filter(|&j| tokens[j].token == Token::LParen) else {
            i += 1;
            continue;
        };
        let Some(close) = (open..tokens.len()).find(|&j| tokens[j].token == Token::RParen) else {
            break;
        };
        let start = (open..close).find(|&j| keyword(&tokens[j], Keyword::START));
        let increment = (open..close).find(|&j| keyword(&tokens[j], Keyword::INCREMENT));
        if let (Some(start), Some(increment)) = (start, increment)
            && start < increment
        {
            let moved: Vec<TokenWithSpan> = tokens[increment..close].to_vec();
            let mut reordered: Vec<TokenWithSpan> = tokens[open + 1..start].to_vec();
            reordered.extend(moved);
            reordered.push(TokenWithSpan::wrap(Token::Whitespace(
                sqlparser::tokenizer::Whitespace::Space,
            )));
            reordered.extend(tokens[start..increment].iter().cloned());
            tokens.splice(open + 1..close, reordered);
        }
        i = close + 1;
    }
    tokens
}

/// A keyword token written in place of `span`'s text (the token rewrites' output).
pub(super) fn keyword_token(
    value: &str,
    keyword: Keyword,
    span: sqlparser::tokenizer::Span,
) -> TokenWithSpan {
    TokenWithSpan {
        token: Token::Word(Word {
            value: value.to_string(),
            quote_style: None,
            keyword,
        }),
        span,
    }
}

/// A blank between rewritten tokens.
pub(super) fn space_token(span: sqlparser::tokenizer::Span) -> TokenWithSpan {
    TokenWithSpan {
        token: Token::Whitespace(sqlparser::tokenizer::Whitespace::Space),
        span,
    }
}

/// Databricks' `t@v3` shorthand becomes `t VERSION AS OF 3`.
fn rewrite_version_shorthand(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    let version_of = |t: &Token| match t {
        Token::Word(w) if w.quote_style.is_none() => w
            .value
            .strip_prefix(['v', 'V'])
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string),
        _ => None,
    };
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let follows_name = matches!(
            out.last(),
            Some(TokenWithSpan {
                token: Token::Word(_),
                ..
            })
        );
        if follows_name
            && tokens[i].token == Token::AtSign
            && let Some(version) = tokens.get(i + 1).and_then(|t| version_of(&t.token))
        {
            let span = tokens[i].span;
            let word = |value: &str, keyword: Keyword| keyword_token(value, keyword, span);
            let space = || space_token(span);
            out.push(space());
            out.push(word("VERSION", Keyword::VERSION));
            out.push(space());
            out.push(word("AS", Keyword::AS));
            out.push(space());
            out.push(word("OF", Keyword::OF));
            out.push(space());
            out.push(TokenWithSpan {
                token: Token::Number(version, false),
                span,
            });
            i += 2;
            continue;
        }
        out.push(tokens[i].clone());
        i += 1;
    }
    out
}

/// Databricks' `UPDATE SET *` and `INSERT *` in MERGE have no sqlparser syntax: rewrite them at the
/// token level to forms it parses (see [`STAR_COLUMN`]).
/// A name the user writes that equals the marker would be taken for a star, so it is refused.
fn rewrite_merge_stars(tokens: Vec<TokenWithSpan>) -> Result<Vec<TokenWithSpan>> {
    if let Some(marker) = tokens
        .iter()
        .find(|t| matches!(&t.token, Token::Word(w) if w.value.eq_ignore_ascii_case(STAR_COLUMN)))
    {
        return Err(Error::new(
            crate::error::ErrorKind::ReservedName,
            format!(
                "\"{STAR_COLUMN}\" is reserved by deltagres (it marks MERGE's UPDATE SET * and INSERT *) and cannot name anything (line {}, column {})",
                marker.span.start.line, marker.span.start.column
            ),
        ));
    }
    let is_merge = tokens
        .iter()
        .any(|t| matches!(&t.token, Token::Word(w) if w.keyword == Keyword::MERGE));
    if !is_merge {
        return Ok(tokens);
    }
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    for token in tokens {
        if token.token == Token::Mul {
            let previous = out
                .iter()
                .rev()
                .find(|t| !matches!(t.token, Token::Whitespace(_)))
                .map(|t| t.token.clone());
            let span = token.span;
            let word = |value: &str, quote: Option<char>, keyword: Keyword| TokenWithSpan {
                token: Token::Word(Word {
                    value: value.to_string(),
                    quote_style: quote,
                    keyword,
                }),
                span,
            };
            match previous {
                Some(Token::Word(w)) if w.keyword == Keyword::SET => {
                    out.push(word(STAR_COLUMN, Some('"'), Keyword::NoKeyword));
                    out.push(TokenWithSpan {
                        token: Token::Eq,
                        span,
                    });
                    out.push(word(STAR_COLUMN, Some('"'), Keyword::NoKeyword));
                    continue;
                }
                Some(Token::Word(w)) if w.keyword == Keyword::INSERT => {
                    let star = || word(STAR_COLUMN, Some('"'), Keyword::NoKeyword);
                    let punct = |token: Token| TokenWithSpan { token, span };
                    out.extend([punct(Token::LParen), star(), punct(Token::RParen)]);
                    out.push(word("VALUES", None, Keyword::VALUES));
                    out.extend([punct(Token::LParen), star(), punct(Token::RParen)]);
                    continue;
                }
                _ => {}
            }
        }
        out.push(token);
    }
    Ok(out)
}

/// `[SHALLOW | DEEP] CLONE source [VERSION AS OF n | TIMESTAMP AS OF ts]` after a CREATE
/// TABLE's name (Databricks; DEEP when neither is written).
fn parse_clone(parser: &mut Parser) -> Result<Option<CloneOf>, ParserError> {
    let shallow = if word_at(parser, 0, "clone") {
        false
    } else if word_at(parser, 1, "clone") && word_at(parser, 0, "shallow") {
        parser.next_token();
        true
    } else if word_at(parser, 1, "clone") && word_at(parser, 0, "deep") {
        parser.next_token();
        false
    } else {
        return Ok(None);
    };
    parser.next_token();
    // Name and version only: a table factor would take a following TBLPROPERTIES for an alias.
    let name = parser.parse_object_name(false)?;
    let version = parser.maybe_parse_table_version()?;
    let version = version
        .map(TimeTravel::from_table_version)
        .transpose()
        .map_err(|other| {
            ParserError::ParserError(format!(
                "CLONE takes VERSION AS OF or TIMESTAMP AS OF, not {other}"
            ))
        })?;
    Ok(Some(CloneOf {
        source: name,
        version,
        shallow,
    }))
}

/// `CREATE [OR REPLACE] TABLE ...`; leaves the parser untouched for any other statement (e.g.
/// `CREATE TEMPORARY TABLE`, `CREATE VIEW`), which sqlparser then handles.
fn try_parse_create_table(parser: &mut Parser) -> Result<Option<CreateTable>, ParserError> {
    let is_keyword = |n: usize, keyword: Keyword| matches!(parser.peek_nth_token(n).token, Token::Word(ref w) if w.keyword == keyword);
    let or_replace = is_keyword(1, Keyword::OR) && is_keyword(2, Keyword::REPLACE);
    let table_at = if or_replace { 3 } else { 1 };
    if !is_keyword(0, Keyword::CREATE) || !is_keyword(table_at, Keyword::TABLE) {
        return Ok(None);
    }
    for _ in 0..=table_at {
        parser.next_token();
    }
    let if_not_exists = parser.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]);
    let name = parser.parse_object_name(false)?;
    let clone = parse_clone(parser)?;
    let like = parse_like(parser)?;
    let (columns, constraints) = if like.is_some() {
        (Vec::new(), Vec::new())
    } else if parser.peek_token().token == Token::LParen {
        parser.parse_columns()?
    } else {
        (Vec::new(), Vec::new())
    };
    let mut create = CreateTable {
        name,
        or_replace,
        if_not_exists,
        columns,
        constraints,
        using: None,
        partitioned_by: Vec::new(),
        location: None,
        properties: Vec::new(),
        comment: None,
        query: None,
        from_like: like.is_some(),
        clone,
    };
    loop {
        if parser.parse_keyword(Keyword::USING) {
            create.using = Some(parser.parse_identifier()?);
        } else if parser.parse_keywords(&[Keyword::PARTITIONED, Keyword::BY]) {
            parser.expect_token(&Token::LParen)?;
            create.partitioned_by = parser.parse_comma_separated(|p| p.parse_identifier())?;
            parser.expect_token(&Token::RParen)?;
        } else if parser.parse_keyword(Keyword::LOCATION) {
            create.location = Some(parser.parse_literal_string()?);
        } else if parser.parse_keyword(Keyword::TBLPROPERTIES) {
            parser.expect_token(&Token::LParen)?;
            create.properties = parser.parse_comma_separated(parse_property)?;
            parser.expect_token(&Token::RParen)?;
        } else if parser.parse_keyword(Keyword::COMMENT) {
            create.comment = Some(parser.parse_literal_string()?);
        } else {
            break;
        }
    }
    let starts_query = matches!(
        parser.peek_token().token,
        Token::Word(ref w) if w.keyword == Keyword::SELECT || w.keyword == Keyword::WITH
    );
    if parser.parse_keyword(Keyword::AS) || starts_query {
        create.query = Some(parser.parse_query()?);
    }
    if let Some(source) = like {
        // The source's columns, types and NOT NULL, as PostgreSQL's LIKE copies them by default:
        // the same as creating the table from an empty query of it.
        let sql = format!("SELECT * FROM {source} WHERE false");
        let mut inner =
            Parser::new(&sqlparser::dialect::PostgreSqlDialect {}).try_with_sql(&sql)?;
        create.query = Some(inner.parse_query()?);
    }
    Ok(Some(create))
}

/// `(LIKE source)` (PostgreSQL) or `LIKE source` (Spark) after the new table's name: the source
/// table. PostgreSQL's `INCLUDING` options (defaults, constraints, generated columns, ...) are
/// refused: nothing of them would be copied.
fn parse_like(parser: &mut Parser) -> Result<Option<sqlparser::ast::ObjectName>, ParserError> {
    let keyword_at = |parser: &Parser, n: usize, keyword: Keyword| matches!(parser.peek_nth_token(n).token, Token::Word(ref w) if w.keyword == keyword);
    let parenthesized =
        parser.peek_token().token == Token::LParen && keyword_at(parser, 1, Keyword::LIKE);
    if !parenthesized && !keyword_at(parser, 0, Keyword::LIKE) {
        return Ok(None);
    }
    if parenthesized {
        parser.next_token();
    }
    parser.expect_keyword(Keyword::LIKE)?;
    let source = parser.parse_object_name(false)?;
    loop {
        if parser.parse_keyword(Keyword::EXCLUDING) {
            parser.parse_identifier()?;
        } else if parser.parse_keyword(Keyword::INCLUDING) {
            let option = parser.parse_identifier()?;
            // `unsupported: ` makes it 0A000 (crate::error::UNSUPPORTED_SYNTAX).
            return Err(ParserError::ParserError(format!(
                "unsupported: CREATE TABLE ... (LIKE {source} INCLUDING {option}) is not supported: \
                 LIKE copies the columns, their types and NOT NULL only"
            )));
        } else {
            break;
        }
    }
    if parenthesized {
        parser.expect_token(&Token::RParen)?;
    }
    Ok(Some(source))
}

/// One `key = value` of TBLPROPERTIES; keys may be quoted strings or dotted names.
fn parse_property(parser: &mut Parser) -> Result<(String, String), ParserError> {
    let key = match parser.peek_token().token {
        Token::SingleQuotedString(s) => {
            parser.next_token();
            s
        }
        _ => parser
            .parse_object_name(false)?
            .0
            .iter()
            .map(|part| part.to_string())
            .collect::<Vec<_>>()
            .join("."),
    };
    parser.expect_token(&Token::Eq)?;
    let value = match parser.parse_value()?.value {
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s,
        Value::Number(n, _) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    };
    Ok((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::parse_sql;

    #[test]
    fn splits_statements_and_recognises_lakehouse_create() {
        let stmts = parse_sql(
            "CREATE TABLE s.t (id BIGINT NOT NULL, d DATE) USING DELTA PARTITIONED BY (d) \
             LOCATION '/tmp/x' TBLPROPERTIES ('delta.appendOnly' = 'false', a.b = 1); SELECT 1;;",
        )
        .unwrap();
        assert_eq!(stmts.len(), 2);
        let Statement::CreateTable(c) = &stmts[0] else {
            panic!("expected our CREATE TABLE, got {:?}", stmts[0]);
        };
        assert_eq!(c.columns.len(), 2);
        assert_eq!(c.partitioned_by[0].value, "d");
        assert_eq!(c.location.as_deref(), Some("/tmp/x"));
        assert_eq!(c.properties[1], ("a.b".to_string(), "1".to_string()));
        assert!(matches!(stmts[1], Statement::Sql(_)));
    }

    #[test]
    fn ctas_and_other_creates() {
        let stmts = parse_sql("CREATE OR REPLACE TABLE t AS SELECT 1 AS x").unwrap();
        let Statement::CreateTable(c) = &stmts[0] else {
            panic!()
        };
        assert!(c.or_replace && c.query.is_some());
        let stmts = parse_sql("CREATE VIEW v AS SELECT 1").unwrap();
        assert!(matches!(stmts[0], Statement::Sql(_)));
    }

    #[test]
    fn version_shorthand() {
        let stmts = parse_sql("SELECT * FROM s.orders@v3 o JOIN c@V12 ON true").unwrap();
        assert_eq!(
            stmts[0].to_string(),
            "SELECT * FROM s.orders o VERSION AS OF 3 JOIN c VERSION AS OF 12 ON true"
        );
    }

    #[test]
    fn missing_delimiter_is_a_syntax_error() {
        let err = parse_sql("SELECT 1 SELECT 2").unwrap_err();
        assert_eq!(err.sqlstate(), "42601");
    }
}
