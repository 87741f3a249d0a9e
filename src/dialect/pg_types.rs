//! Type names that mean another type in PostgreSQL than in DataFusion.
//!
//! `FLOAT` without a precision, and `FLOAT(p)` with `p` above 24, are `double precision` in
//! PostgreSQL (and in the SQL standard's reading PostgreSQL follows); DataFusion plans every
//! `FLOAT` as a 4-byte `real`. `SELECT 1::float / 3` answered `0.33333334`, and a `FLOAT` column
//! stored 7 significant digits of every value written to it. They are rewritten to `FLOAT8`
//! (the name PostgreSQL gives such a column, `float8`) wherever a type is written: casts, typed
//! literals, column definitions, `ALTER TABLE` column types and `PREPARE` parameter types.
//!
//! `varchar(n)` and `char(n)` (`char` alone is `char(1)`) are text to DataFusion, which ignores
//! the length: a cast to one is planned as the function that cuts the value to `n` characters
//! (`semantics::CharType`), as PostgreSQL's explicit cast does; column definitions keep the
//! declared type in the column's metadata (see [`declared_char_type`]).

use std::ops::ControlFlow;

use sqlparser::ast::{
    self, AlterColumnOperation, AlterTableOperation, ArrayElemTypeDef, ColumnDef, DataType,
    ExactNumberInfo, Expr, visit_expressions_mut,
};

use super::Statement;
use crate::semantics::{CharKind, CharType};

/// The largest `FLOAT(p)` precision that is a `real` (PostgreSQL: 1 to 24 bits).
const REAL_PRECISION: u64 = 24;

/// Rewrites the types `statement` writes (see the module header), casts to a declared length
/// aside ([`rewrite_length_casts`]).
pub fn rewrite(statement: &mut Statement) {
    match statement {
        Statement::Sql(sql) => rewrite_sql(sql),
        Statement::CreateTable(create) => {
            columns(&mut create.columns);
            if let Some(query) = create.query.as_mut() {
                expressions(query.as_mut(), cast_type);
            }
        }
        _ => each_expression(statement, cast_type),
    }
}

/// Plans the casts to `varchar(n)` / `char(n)` in `statement` as the functions that cut the
/// value (after the result columns are named, which PostgreSQL names after the type).
pub fn rewrite_length_casts(statement: &mut Statement) {
    each_expression(statement, length_cast);
}

/// Applies `f` to every expression of `statement`'s queries, conditions and values.
fn each_expression(statement: &mut Statement, f: fn(&mut Expr)) {
    match statement {
        Statement::Sql(sql) => expressions(sql.as_mut(), f),
        Statement::CreateTable(create) => {
            if let Some(query) = create.query.as_mut() {
                expressions(query.as_mut(), f);
            }
        }
        Statement::Merge { merge, .. } => expressions(merge, f),
        Statement::InsertReplaceWhere {
            predicate, query, ..
        } => {
            expressions(predicate, f);
            expressions(query.as_mut(), f);
        }
        _ => {}
    }
}

fn rewrite_sql(sql: &mut ast::Statement) {
    match sql {
        ast::Statement::CreateTable(create) => columns(&mut create.columns),
        ast::Statement::AlterTable(alter) => {
            for operation in &mut alter.operations {
                match operation {
                    AlterTableOperation::AddColumn { column_def, .. } => {
                        pg_data_type(&mut column_def.data_type)
                    }
                    AlterTableOperation::AlterColumn {
                        op: AlterColumnOperation::SetDataType { data_type, .. },
                        ..
                    } => pg_data_type(data_type),
                    _ => {}
                }
            }
        }
        ast::Statement::Prepare { data_types, .. } => data_types.iter_mut().for_each(pg_data_type),
        _ => {}
    }
    expressions(sql, cast_type);
}

fn columns(columns: &mut [ColumnDef]) {
    for column in columns {
        pg_data_type(&mut column.data_type);
    }
}

/// Applies `f` to every expression in `node`.
fn expressions<N: ast::VisitMut>(node: &mut N, f: fn(&mut Expr)) {
    let _ = visit_expressions_mut(node, |expr: &mut Expr| {
        f(expr);
        ControlFlow::<()>::Continue(())
    });
}

/// The type of a cast or typed literal as PostgreSQL reads it.
fn cast_type(expr: &mut Expr) {
    match expr {
        Expr::Cast { data_type, .. } => pg_data_type(data_type),
        Expr::TypedString(typed) => pg_data_type(&mut typed.data_type),
        _ => {}
    }
}

/// The text type with a declared length that `data_type` names, if it is one: `varchar(n)`,
/// `character varying(n)`, `char(n)`, `character(n)`, and `char` / `character` alone
/// (PostgreSQL's `char(1)`). Why: DataFusion reads all of them as unbounded text.
pub fn declared_char_type(data_type: &DataType) -> Option<CharType> {
    let length = |length: &Option<ast::CharacterLength>| match length {
        Some(ast::CharacterLength::IntegerLength { length, .. }) => u32::try_from(*length).ok(),
        _ => None,
    };
    match data_type {
        DataType::Varchar(n) | DataType::CharacterVarying(n) | DataType::CharVarying(n) => {
            Some(CharType {
                kind: CharKind::Varchar,
                length: length(n)?,
            })
        }
        DataType::Char(n) | DataType::Character(n) => Some(CharType {
            kind: CharKind::Char,
            length: if n.is_none() { 1 } else { length(n)? },
        }),
        _ => None,
    }
}

/// `CAST(x AS varchar(n))` -> `pg_varchar_cast(CAST(x AS VARCHAR), n)` (and `char(n)` alike).
fn length_cast(expr: &mut Expr) {
    let Expr::Cast {
        expr: inner,
        data_type,
        ..
    } = expr
    else {
        return;
    };
    let Some(char_type) = declared_char_type(data_type) else {
        return;
    };
    let text = Expr::Cast {
        kind: ast::CastKind::Cast,
        expr: inner.clone(),
        data_type: DataType::Varchar(None),
        array: false,
        format: None,
    };
    *expr = super::pg_rewrites::call(
        char_type.cast_function(),
        vec![
            text,
            Expr::value(ast::Value::Number(char_type.length.to_string(), false)),
        ],
    );
}

/// `data_type` as PostgreSQL reads it, arrays' element types included.
fn pg_data_type(data_type: &mut DataType) {
    match data_type {
        DataType::Float(info) => {
            let precision = match info {
                ExactNumberInfo::None => None,
                ExactNumberInfo::Precision(p) | ExactNumberInfo::PrecisionAndScale(p, _) => {
                    Some(*p)
                }
            };
            match precision {
                Some(p) if p <= REAL_PRECISION => *data_type = DataType::Real,
                _ => *data_type = DataType::Float8,
            }
        }
        DataType::Array(
            ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::Parenthesis(inner),
        ) => pg_data_type(inner),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(sql: &str) -> String {
        let mut statements = super::super::parser::parse_statements(sql).unwrap();
        rewrite(&mut statements[0]);
        rewrite_length_casts(&mut statements[0]);
        match &statements[0] {
            Statement::Sql(sql) => sql.to_string(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn float_is_double_precision_unless_its_precision_says_real() {
        assert_eq!(
            rewritten("SELECT 1::float, CAST(x AS FLOAT(25)), CAST(y AS FLOAT(24)), z::float[]"),
            "SELECT 1::FLOAT8, CAST(x AS FLOAT8), CAST(y AS REAL), z::FLOAT8[]"
        );
        assert!(rewritten("ALTER TABLE t ADD COLUMN f FLOAT").contains("f FLOAT8"));
    }

    #[test]
    fn casts_to_a_declared_length_cut_the_value() {
        assert_eq!(
            rewritten("SELECT x::varchar(3), CAST(y AS CHARACTER(2)), z::char, w::varchar"),
            "SELECT pg_varchar_cast(CAST(x AS VARCHAR), 3), pg_bpchar_cast(CAST(y AS VARCHAR), 2), \
             pg_bpchar_cast(CAST(z AS VARCHAR), 1), w::VARCHAR"
        );
    }
}
