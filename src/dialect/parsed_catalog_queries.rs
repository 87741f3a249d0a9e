//! Catalog queries parsed once per text.
//!
//! Drivers and BI tools send the same catalog queries over and over (a schema browser's "list
//! tables", JDBC's `getColumns`, psql's `\d`), and a catalog query is the dearest text to parse:
//! it is parsed by the catalog library as well, to put in its substitutions, and rewritten by
//! both. The result depends on nothing but the text, so it is kept, for a bounded number of
//! texts, and a repeat is a copy of the statements.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;

use super::Statement;
use crate::error::Result;

/// Texts kept; past that the cache starts over (the texts a deployment's tools send are few).
const MAX_TEXTS: usize = 256;

/// Texts longer than this are parsed each time (no catalog query a tool sends is this long).
const MAX_TEXT_BYTES: usize = 16 * 1024;

/// Shared by all sessions; held only to look up or add an entry (the copy is made outside).
static PARSED: LazyLock<Mutex<HashMap<String, Arc<Vec<Statement>>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The statements of the catalog query `sql`, parsed by `parse` (given `sql` and `true`) the
/// first time.
pub(super) fn get_or_parse(
    sql: &str,
    parse: impl FnOnce(&str, bool) -> Result<Vec<Statement>>,
) -> Result<Vec<Statement>> {
    if sql.len() > MAX_TEXT_BYTES {
        return parse(sql, true);
    }
    let kept = PARSED.lock().get(sql).cloned();
    if let Some(statements) = kept {
        return Ok(statements.as_ref().clone());
    }
    let statements = parse(sql, true)?;
    let mut parsed = PARSED.lock();
    if parsed.len() >= MAX_TEXTS {
        parsed.clear();
    }
    parsed.insert(sql.to_string(), Arc::new(statements.clone()));
    Ok(statements)
}
