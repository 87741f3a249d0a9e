//! Name resolution: identifiers fold to lower case unless quoted, as in PostgreSQL.

use std::ops::ControlFlow;

use sqlparser::ast::{Expr, Ident, ObjectName, visit_expressions_mut};

use crate::catalog::{CATALOG_NAME, TableRef};
use crate::error::{Error, ErrorKind, Result};

/// The catalog name of an identifier: quoted keeps its case, unquoted folds to lower case.
pub fn normalize_ident(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The identifier quoted with its catalog name, so case-sensitive parsers (delta-rs) read it as
/// PostgreSQL would.
pub fn quoted_ident(ident: &Ident) -> Ident {
    Ident::with_quote('"', normalize_ident(ident))
}

/// Quotes every identifier of `expr` (plain and qualified) with its catalog name, for expressions
/// handed to delta-rs as SQL text.
pub fn quote_identifiers(expr: &mut Expr) {
    let _ = visit_expressions_mut(expr, |e| {
        match e {
            Expr::Identifier(ident) => *ident = quoted_ident(ident),
            Expr::CompoundIdentifier(parts) => {
                for p in parts.iter_mut() {
                    *p = quoted_ident(p);
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Resolves `t`, `s.t` or `deltagres.s.t` against the default schema.
pub fn resolve_table(name: &ObjectName, default_schema: &str) -> Result<TableRef> {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| {
            p.as_ident()
                .map(normalize_ident)
                .ok_or_else(|| Error::syntax(format!("invalid table name {name}")))
        })
        .collect::<Result<_>>()?;
    let (schema, table) = match parts.as_slice() {
        [t] => (default_schema.to_string(), t.clone()),
        [s, t] => (s.clone(), t.clone()),
        [c, s, t] if c == CATALOG_NAME => (s.clone(), t.clone()),
        [c, _, _] => {
            return Err(Error::new(
                ErrorKind::FeatureNotSupported,
                format!("cross-database references are not implemented: {c}"),
            ));
        }
        _ => {
            return Err(Error::syntax(format!(
                "improper qualified name (too many dotted names): {name}"
            )));
        }
    };
    Ok(TableRef { schema, table })
}
