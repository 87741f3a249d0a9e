//! [`LakehouseDialect`]: the PostgreSQL dialect with the Databricks lakehouse switches turned on.
//!
//! It wraps `PostgreSqlDialect` and forwards every rule PostgreSQL overrides, and reports the
//! PostgreSQL `TypeId` from `dialect()` so the parser's `dialect_of!(PostgreSqlDialect)` rules still
//! apply (`::` casts, `$1` placeholders, `E''` strings, ...). On top it enables `VERSION AS OF` /
//! `TIMESTAMP AS OF`, `OPTIMIZE ... ZORDER BY` and `/*+ hints */`.

use std::any::TypeId;

use sqlparser::ast::{BinaryOperator, Expr, UnaryOperator};
use sqlparser::dialect::{Dialect, PostgreSqlDialect, Precedence};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::Token;

/// PostgreSQL syntax plus Databricks/Spark lakehouse statements.
#[derive(Debug, Default)]
pub struct LakehouseDialect {
    pg: PostgreSqlDialect,
}

/// How tightly PostgreSQL's unary `-` and `+` hold their operand: above `^`, `AT TIME ZONE` and
/// `COLLATE` (sqlparser's PostgreSQL precedence of COLLATE), below `[ ]`, `::` and `.`.
const SIGN_OPERAND_PREC: u8 = 120;

impl Dialect for LakehouseDialect {
    fn dialect(&self) -> TypeId {
        self.pg.dialect()
    }
    /// A unary `-` / `+` binds tighter than `^`, as in PostgreSQL: `-2 ^ 2` is `(-2) ^ 2` = 4
    /// (sqlparser read `-(2 ^ 2)` = -4).
    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        let op = match parser.peek_token().token {
            Token::Minus => UnaryOperator::Minus,
            Token::Plus => UnaryOperator::Plus,
            _ => return None,
        };
        parser.next_token();
        Some(
            parser
                .parse_subexpr(SIGN_OPERAND_PREC)
                .map(|expr| Expr::UnaryOp {
                    op,
                    expr: Box::new(expr),
                }),
        )
    }
    /// `x [NOT] BETWEEN SYMMETRIC a AND b`, which sqlparser does not read: true when `x` lies
    /// between the two bounds in either order, `(x BETWEEN a AND b) OR (x BETWEEN b AND a)` as
    /// PostgreSQL defines it. `BETWEEN ASYMMETRIC` is the plain form.
    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        _precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        let is = |n: usize, keyword: Keyword| matches!(&parser.peek_nth_token(n).token, Token::Word(w) if w.keyword == keyword);
        let negated = is(0, Keyword::NOT);
        let at = usize::from(negated);
        if !is(at, Keyword::BETWEEN)
            || !(is(at + 1, Keyword::SYMMETRIC) || is(at + 1, Keyword::ASYMMETRIC))
        {
            return None;
        }
        let symmetric = is(at + 1, Keyword::SYMMETRIC);
        for _ in 0..at + 2 {
            parser.next_token();
        }
        Some(parser.parse_between(expr.clone(), negated).map(|between| {
            let Expr::Between {
                expr,
                negated,
                low,
                high,
            } = between
            else {
                return between;
            };
            if !symmetric {
                return Expr::Between {
                    expr,
                    negated,
                    low,
                    high,
                };
            }
            let forward = Expr::Between {
                expr: expr.clone(),
                negated: false,
                low: low.clone(),
                high: high.clone(),
            };
            let backward = Expr::Between {
                expr,
                negated: false,
                low: high,
                high: low,
            };
            let either = Expr::Nested(Box::new(Expr::BinaryOp {
                left: Box::new(forward),
                op: BinaryOperator::Or,
                right: Box::new(backward),
            }));
            if negated {
                Expr::UnaryOp {
                    op: UnaryOperator::Not,
                    expr: Box::new(either),
                }
            } else {
                either
            }
        }))
    }
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.pg.identifier_quote_style(identifier)
    }
    /// Backticks quote paths in Spark's ``parquet.`/data/orders` `` form.
    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '`' || self.pg.is_delimited_identifier_start(ch)
    }
    fn is_identifier_start(&self, ch: char) -> bool {
        self.pg.is_identifier_start(ch)
    }
    fn is_identifier_part(&self, ch: char) -> bool {
        self.pg.is_identifier_part(ch)
    }
    fn supports_unicode_string_literal(&self) -> bool {
        self.pg.supports_unicode_string_literal()
    }
    fn is_reserved_for_identifier(&self, kw: Keyword) -> bool {
        self.pg.is_reserved_for_identifier(kw)
    }
    fn is_custom_operator_part(&self, ch: char) -> bool {
        self.pg.is_custom_operator_part(ch)
    }
    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        self.pg.get_next_precedence(parser)
    }
    fn supports_filter_during_aggregation(&self) -> bool {
        self.pg.supports_filter_during_aggregation()
    }
    fn supports_group_by_expr(&self) -> bool {
        self.pg.supports_group_by_expr()
    }
    fn prec_value(&self, prec: Precedence) -> u8 {
        self.pg.prec_value(prec)
    }
    fn allow_extract_custom(&self) -> bool {
        self.pg.allow_extract_custom()
    }
    fn allow_extract_single_quotes(&self) -> bool {
        self.pg.allow_extract_single_quotes()
    }
    fn supports_create_index_with_clause(&self) -> bool {
        self.pg.supports_create_index_with_clause()
    }
    fn supports_explain_with_utility_options(&self) -> bool {
        self.pg.supports_explain_with_utility_options()
    }
    fn supports_listen_notify(&self) -> bool {
        self.pg.supports_listen_notify()
    }
    fn supports_factorial_operator(&self) -> bool {
        self.pg.supports_factorial_operator()
    }
    fn supports_bitwise_shift_operators(&self) -> bool {
        self.pg.supports_bitwise_shift_operators()
    }
    fn supports_comment_on(&self) -> bool {
        self.pg.supports_comment_on()
    }
    fn supports_load_extension(&self) -> bool {
        self.pg.supports_load_extension()
    }
    fn supports_named_fn_args_with_colon_operator(&self) -> bool {
        self.pg.supports_named_fn_args_with_colon_operator()
    }
    fn supports_named_fn_args_with_expr_name(&self) -> bool {
        self.pg.supports_named_fn_args_with_expr_name()
    }
    fn supports_empty_projections(&self) -> bool {
        self.pg.supports_empty_projections()
    }
    fn supports_nested_comments(&self) -> bool {
        self.pg.supports_nested_comments()
    }
    fn supports_string_escape_constant(&self) -> bool {
        self.pg.supports_string_escape_constant()
    }
    fn supports_numeric_literal_underscores(&self) -> bool {
        self.pg.supports_numeric_literal_underscores()
    }
    fn supports_array_typedef_with_brackets(&self) -> bool {
        self.pg.supports_array_typedef_with_brackets()
    }
    fn supports_geometric_types(&self) -> bool {
        self.pg.supports_geometric_types()
    }
    fn supports_set_names(&self) -> bool {
        self.pg.supports_set_names()
    }
    fn supports_alter_column_type_using(&self) -> bool {
        self.pg.supports_alter_column_type_using()
    }
    fn supports_notnull_operator(&self) -> bool {
        self.pg.supports_notnull_operator()
    }
    fn supports_interval_options(&self) -> bool {
        self.pg.supports_interval_options()
    }
    fn supports_insert_table_alias(&self) -> bool {
        self.pg.supports_insert_table_alias()
    }
    fn supports_create_table_like_parenthesized(&self) -> bool {
        self.pg.supports_create_table_like_parenthesized()
    }
    fn supports_select_wildcard_with_alias(&self) -> bool {
        self.pg.supports_select_wildcard_with_alias()
    }
    fn supports_comma_separated_trim(&self) -> bool {
        self.pg.supports_comma_separated_trim()
    }
    fn supports_xml_expressions(&self) -> bool {
        self.pg.supports_xml_expressions()
    }
    fn supports_comment_optimizer_hint(&self) -> bool {
        true
    }
    fn supports_table_versioning(&self) -> bool {
        true
    }
    fn supports_optimize_table(&self) -> bool {
        true
    }
}
