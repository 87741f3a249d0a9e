//! COPY ... FROM STDIN's data messages for a connection: each CopyData goes to the load the
//! COPY statement started, CopyDone commits it, CopyFail drops it with nothing written.

use std::fmt::Debug;

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::ClientInfo;
use pgwire::api::copy::CopyHandler;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};

use super::encode::{self, pg_error};
use super::handler::{ActiveStatement, QueryHandler, flush_session_messages, log_error};
use crate::error::{Error, ErrorKind};
use crate::session::QueryOutput;

#[async_trait]
impl CopyHandler for QueryHandler {
    async fn on_copy_data<C>(&self, _client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // Bounded: a writer that falls behind makes this wait, and so the client.
        if let Some(load) = self.slot.copy.lock().await.as_mut() {
            load.push(&copy_data.data).await;
        }
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(load) = self.slot.copy.lock().await.take() else {
            return Err(pg_error(&Error::new(
                ErrorKind::ProtocolViolation,
                "CopyDone without a COPY in progress",
            )));
        };
        let _active = ActiveStatement::start(&self.slot.active);
        let _busy = self.slot.activity.busy();
        let mut session = self.slot.lock(client).await;
        let result = session.copy_done(load).await;
        flush_session_messages(client, &mut session).await?;
        match result {
            Ok(QueryOutput::Command(tag)) => {
                client
                    .send(PgWireBackendMessage::CommandComplete(
                        encode::command_tag(tag).into(),
                    ))
                    .await?;
                Ok(())
            }
            Ok(_) => Err(pg_error(&Error::internal("COPY produced rows"))),
            Err(e) => {
                log_error(&e);
                Err(pg_error(&e))
            }
        }
    }

    async fn on_copy_fail<C>(&self, client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // Dropping the load stops its writer before any commit.
        if self.slot.copy.lock().await.take().is_some() {
            self.slot.lock(client).await.copy_failed();
        }
        pg_error(&Error::new(
            ErrorKind::QueryCanceled,
            format!(
                "COPY from stdin failed: {}; nothing was written",
                fail.message
            ),
        ))
    }
}
