//! `'pg_class'::regclass` names PostgreSQL's own catalog relation, as PostgreSQL resolves an
//! unqualified name (`pg_catalog` is searched first). The catalog library resolves such a name in
//! the current schema only, so it was NULL, and client queries that filter on it
//! (`d.classoid = 'pg_class'::regclass`: Metabase, DBeaver, pgjdbc) found nothing. The names
//! of the catalog relations clients ask for are qualified here, before the library's rules run.

use std::ops::ControlFlow;

use sqlparser::ast::{DataType, Expr, Statement, Value, visit_expressions_mut};

/// The `pg_catalog` relations a client names in a `regclass` literal.
const CATALOG_RELATIONS: &[&str] = &[
    "pg_am",
    "pg_attrdef",
    "pg_attribute",
    "pg_class",
    "pg_collation",
    "pg_constraint",
    "pg_database",
    "pg_depend",
    "pg_description",
    "pg_enum",
    "pg_extension",
    "pg_index",
    "pg_inherits",
    "pg_language",
    "pg_namespace",
    "pg_operator",
    "pg_proc",
    "pg_rewrite",
    "pg_roles",
    "pg_sequence",
    "pg_tables",
    "pg_trigger",
    "pg_type",
    "pg_views",
];

/// Qualifies the catalog relation names of `'name'::regclass` literals in `statement`.
pub(super) fn qualify_catalog_relations(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |expr: &mut Expr| {
        if let Expr::Cast {
            data_type: DataType::Regclass,
            expr: operand,
            ..
        } = expr
            && let Expr::Value(value) = operand.as_mut()
            && let Value::SingleQuotedString(name) = &mut value.value
            && CATALOG_RELATIONS.contains(&name.as_str())
        {
            *name = format!("pg_catalog.{name}");
        }
        ControlFlow::<()>::Continue(())
    });
}
