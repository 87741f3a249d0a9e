//! uuid values on the wire: a uuid column's canonical text (see `semantics::uuid_type`) sent as
//! that text in text format and as PostgreSQL's 16 bytes in binary format (what tokio-postgres,
//! JDBC and asyncpg read a `uuid` as); and uuid parameters a client binds in either format read
//! back into canonical text.

use bytes::{BufMut, BytesMut};
use postgres_types::{IsNull, ToSql, Type};

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A uuid as its canonical text.
#[derive(Debug)]
pub struct UuidText<'a>(pub &'a str);

impl ToSql for UuidText<'_> {
    fn to_sql(&self, _ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let bytes = crate::semantics::parse_uuid(self.0)
            .ok_or_else(|| format!("invalid input syntax for type uuid: \"{}\"", self.0))?;
        out.put_slice(&bytes);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::UUID
    }

    postgres_types::to_sql_checked!();
}

impl pgwire::types::ToSqlText for UuidText<'_> {
    fn to_sql_text(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
        _format_options: &pgwire::types::format::FormatOptions,
    ) -> Result<IsNull, BoxError> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }
}

/// The canonical text of a uuid parameter as the client sent it: 16 bytes in binary format, a
/// text PostgreSQL's uuid input accepts in text format; `None` when it is neither.
pub fn parameter_text(raw: &[u8], binary: bool) -> Option<String> {
    let bytes: [u8; 16] = if binary {
        raw.try_into().ok()?
    } else {
        crate::semantics::parse_uuid(std::str::from_utf8(raw).ok()?)?
    };
    Some(crate::semantics::uuid_canonical(&bytes))
}
