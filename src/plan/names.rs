//! Name resolution: identifiers fold to lower case unless quoted, as in PostgreSQL.

use sqlparser::ast::{Ident, ObjectName};

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
