//! The extended query protocol's Parse, Bind, Describe and Execute for a connection: Parse,
//! Bind and Describe answered with the rest of the round (`coalesced`), Execute streaming rows
//! straight to the client and running the session's prepared statement with its parameters.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::future::{Either, select};
use futures::{Sink, SinkExt};
use pgwire::api::portal::{Portal, PortalExecutionState};
use pgwire::api::query::ExtendedQueryHandler;
use pgwire::api::query::{send_execution_response, send_query_response};
use pgwire::api::results::Response;
use pgwire::api::store::{Entry, PortalStore};
use pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionHandle, DEFAULT_NAME, PgWireConnectionState,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::{Bind, Describe, Execute, Parse};
use pgwire::messages::response::EmptyQueryResponse;

use super::encode::pg_error;
use super::handler::{
    ActiveStatement, QueryHandler, flush_session_messages, log_error, relay_notices,
};
use super::parameters::decode_parameters;
use super::prepared::{PreparedStatement, StatementParser};
use crate::error::Error;
use crate::session::QueryOutput;

#[async_trait]
impl ExtendedQueryHandler for QueryHandler {
    type Statement = PreparedStatement;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    /// ParseComplete goes out with the rest of the round (see `coalesced`).
    async fn on_parse<C>(&self, client: &mut C, message: Parse) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        super::coalesced::parse(self, client, message).await
    }

    /// BindComplete goes out with the rest of the round (see `coalesced`).
    async fn on_bind<C>(&self, client: &mut C, message: Bind) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        super::coalesced::bind::<Self::Statement, C>(client, message).await
    }

    /// The description goes out with the rest of the round (see `coalesced`).
    async fn on_describe<C>(&self, client: &mut C, message: Describe) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        super::coalesced::describe(self, client, message).await
    }

    /// Execute without a row limit streams rows straight to the client. (pgwire's default
    /// collects every row of an unlimited Execute in memory first; with a limit it suspends the
    /// portal, which we keep.)
    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let portal_name = message.name.as_deref().unwrap_or(DEFAULT_NAME);
        let portal = match client.portal_store().get_portal(portal_name) {
            Some(Entry::Value(portal)) if message.max_rows <= 0 => portal,
            _ => return self._on_execute(client, message).await,
        };
        if !matches!(*portal.state().lock().await, PortalExecutionState::Initial) {
            return self._on_execute(client, message).await;
        }
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        let mut status = client.transaction_status();
        client.set_state(PgWireConnectionState::QueryInProgress);
        let cancel = match client.session_extensions().get::<Arc<ConnectionHandle>>() {
            Some(handle) => Some(handle.start_query().await),
            None => None,
        };
        let response = match cancel {
            Some(cancel) => match select(
                ExtendedQueryHandler::do_query(self, client, portal.as_ref(), 0),
                cancel,
            )
            .await
            {
                Either::Left((result, _)) => result,
                Either::Right(_) => Err(PgWireError::QueryCanceled),
            },
            None => ExtendedQueryHandler::do_query(self, client, portal.as_ref(), 0).await,
        }?;
        match response {
            Response::Query(rows) => {
                send_query_response(client, rows, false).await?;
                *portal.state().lock().await = PortalExecutionState::Finished;
            }
            Response::EmptyQuery => {
                client
                    .feed(PgWireBackendMessage::EmptyQueryResponse(
                        EmptyQueryResponse::new(),
                    ))
                    .await?;
            }
            Response::Execution(tag) => send_execution_response(client, tag).await?,
            Response::TransactionStart(tag) => {
                send_execution_response(client, tag).await?;
                status = status.to_in_transaction_state();
            }
            Response::TransactionEnd(tag) => {
                send_execution_response(client, tag).await?;
                status = status.to_idle_state();
                client.portal_store().rm_portal(DEFAULT_NAME);
            }
            Response::Error(e) => {
                client
                    .feed(PgWireBackendMessage::ErrorResponse((*e).into()))
                    .await?;
                status = status.to_error_state();
            }
            // COPY over the extended protocol (tokio-postgres, JDBC's CopyManager), as
            // pgwire's own Execute handles it: the connection then waits for CopyData.
            Response::CopyIn(copy) => {
                client.set_state(PgWireConnectionState::CopyInProgress(true));
                pgwire::api::copy::send_copy_in_response(client, copy).await?;
                return Ok(());
            }
            Response::CopyOut(copy) => {
                pgwire::api::copy::send_copy_out_response(client, copy).await?;
            }
            Response::CopyBoth(_) => {
                return Err(pg_error(&Error::unsupported("COPY BOTH is not supported")));
            }
        }
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(status);
        Ok(())
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let _active = ActiveStatement::start(&self.slot.active);
        let _busy = self.slot.activity.busy();
        let statement = &portal.statement.statement;
        let params = decode_parameters(portal, statement)?;
        let mut session = self.slot.lock(client).await;
        let tracker = self.slot.track(
            client,
            &statement.sql,
            statement.prepared.statement.as_ref(),
        );
        // Without parameters, a statement's text is all there is to it, as in a simple query:
        // a repeat whose text alone decides its plan runs that plan again.
        let remembered = params.is_empty();
        let result = match remembered
            .then(|| session.run_remembered(&statement.sql))
            .flatten()
        {
            Some(result) => result,
            None => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                session.set_live_notices(Some(tx));
                let result = relay_notices(
                    client,
                    rx,
                    session.execute_prepared(&statement.prepared, &params),
                )
                .await;
                session.set_live_notices(None);
                let result = result?;
                flush_session_messages(client, &mut session).await?;
                result
            }
        };
        match result {
            Ok(output) => {
                if remembered {
                    session.remember_text(&statement.sql);
                }
                if let QueryOutput::CopyIn(copy) = &output {
                    *self.slot.copy.lock().await = copy.take_load();
                }
                self.slot.respond(
                    client,
                    &session,
                    output,
                    tracker,
                    &portal.result_column_format,
                )
            }
            Err(e) => {
                tracker.failed(e.sqlstate(), &e.message);
                log_error(&e);
                Err(pg_error(&e))
            }
        }
    }
}
