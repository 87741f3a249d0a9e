//! Who a session is, as the catalog reports it: `current_user` and its synonyms,
//! `pg_get_userbyid` and the rows of `pg_roles`. The catalog library answers `postgres`
//! everywhere and lists no roles, while clients compare these with the name they connected as
//! (pgAdmin's role and recovery queries, Grafana's `"$user"` search path entry, psql `\du`).
//!
//! deltagres has no privileges: every user may do everything, so every role is a superuser and
//! owns every object.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, new_null_array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{Signature, Volatility};
use datafusion::prelude::SessionContext;

use super::pg::register_constant;

/// The user a session logged in as, kept in its DataFusion configuration so that catalog tables
/// can read it when scanned.
#[derive(Debug)]
pub struct SessionUser(pub String);

/// The oid of the session's own role (PostgreSQL's bootstrap superuser; `pg_database.datdba`).
const OWN_ROLE_OID: i64 = 10;
/// Oids of the other configured users, in configuration order.
const OTHER_ROLES_FIRST_OID: i64 = 9000;

/// Makes `ctx` answer as `user`: the user functions and the `pg_roles` row.
pub fn identify_session(ctx: &SessionContext, user: &str) {
    for name in ["current_user", "session_user", "user", "current_role"] {
        register_constant(
            ctx,
            name,
            Signature::nullary(Volatility::Stable),
            ScalarValue::Utf8(Some(user.to_string())),
        );
    }
    // Every object is owned by whoever asks (see the module comment).
    register_constant(
        ctx,
        "pg_get_userbyid",
        Signature::any(1, Volatility::Stable),
        ScalarValue::Utf8(Some(user.to_string())),
    );
    ctx.state_ref()
        .write()
        .config_mut()
        .set_extension(Arc::new(SessionUser(user.to_string())));
}

/// The `pg_roles` rows (in `schema`, the library's columns) for the configured users and the
/// scanning session's user.
pub fn role_rows(
    schema: &SchemaRef,
    configured: &[String],
    state: &dyn Session,
) -> Result<RecordBatch> {
    let own = state
        .config()
        .get_extension::<SessionUser>()
        .map(|user| user.0.clone());
    let mut roles: Vec<(i64, String)> = Vec::new();
    if let Some(own) = &own {
        roles.push((OWN_ROLE_OID, own.clone()));
    }
    for (i, name) in configured.iter().enumerate() {
        if Some(name) != own.as_ref() {
            roles.push((OTHER_ROLES_FIRST_OID + i as i64, name.clone()));
        }
    }
    let rows = roles.len();
    batch_by_field_name(schema, rows, |name| -> Option<ArrayRef> {
        Some(match name {
            "oid" => Arc::new(Int64Array::from_iter_values(roles.iter().map(|r| r.0))),
            "rolname" => Arc::new(StringArray::from_iter_values(
                roles.iter().map(|r| r.1.as_str()),
            )),
            "rolsuper" | "rolinherit" | "rolcreaterole" | "rolcreatedb" | "rolcanlogin"
            | "rolreplication" | "rolbypassrls" => Arc::new(BooleanArray::from(vec![true; rows])),
            "rolconnlimit" => Arc::new(Int64Array::from(vec![-1; rows])),
            "rolpassword" => Arc::new(StringArray::from(vec!["********"; rows])),
            _ => return None,
        })
    })
}

/// A batch of `rows` rows in `schema`: each column from `column(name)`, cast to the field's
/// type, or NULL where it gives none.
pub(super) fn batch_by_field_name(
    schema: &SchemaRef,
    rows: usize,
    column: impl Fn(&str) -> Option<ArrayRef>,
) -> Result<RecordBatch> {
    let columns = schema
        .fields()
        .iter()
        .map(|field| match column(field.name()) {
            Some(values) => Ok(cast(&values, field.data_type())?),
            None => Ok(new_null_array(field.data_type(), rows)),
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
