//! The Parse step of the extended protocol: a statement prepared by the connection's session
//! (described once, at Parse time) with its parameters typed as PostgreSQL types.

use std::sync::Arc;

use arrow_pg::datatypes::into_pg_type;
use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use pgwire::api::portal::Format;
use pgwire::api::results::FieldInfo;
use pgwire::api::stmt::QueryParser;
use pgwire::api::{ClientInfo, Type};
use pgwire::error::PgWireResult;

use super::encode::{self, pg_error};
use super::handler::{SessionSlot, log_error};
use super::parameters::declared_type;
use crate::session::Prepared;

/// Parses Parse messages into prepared statements (described once, at Parse time).
pub struct StatementParser {
    pub(super) slot: Arc<SessionSlot>,
}

/// A prepared statement with its parameter types as PostgreSQL types.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    pub(super) prepared: Arc<Prepared>,
    pub(super) param_types: Vec<Type>,
    /// The text the client prepared, for the statement registry.
    pub(super) sql: Arc<str>,
}

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = PreparedStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let declared: Vec<Option<DataType>> = types
            .iter()
            .map(|t| t.as_ref().and_then(declared_type))
            .collect();
        let mut session = self.slot.lock(client).await;
        let prepared = session.prepare(sql, &declared).await.map_err(|e| {
            log_error(&e);
            pg_error(&e)
        })?;
        if prepared.statement.is_none() {
            return Ok(None);
        }
        // Parameters cast to oid / oid[] are described so (see param_casts), others as planned.
        let cast = if sql.contains("oid") {
            super::param_casts::cast_parameter_types(sql)
        } else {
            Default::default()
        };
        let param_types = prepared
            .description
            .param_types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let uuid = prepared.description.uuid_params.get(i) == Some(&true);
                types
                    .get(i)
                    .cloned()
                    .flatten()
                    .or_else(|| uuid.then_some(Type::UUID))
                    .or_else(|| t.as_ref().and_then(|t| into_pg_type(t).ok()))
                    .or_else(|| cast.get(&i).cloned())
                    .unwrap_or(Type::UNKNOWN)
            })
            .collect();
        Ok(Some(PreparedStatement {
            prepared: Arc::new(prepared),
            param_types,
            sql: Arc::from(sql),
        }))
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        Ok(stmt.param_types.clone())
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        match &stmt.prepared.description.result_schema {
            Some(schema) => encode::fields(
                schema,
                format.unwrap_or(&Format::UnifiedText),
                Default::default(),
            ),
            None => Ok(Vec::new()),
        }
    }
}
