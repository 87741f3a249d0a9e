//! Connection start-up: protocol negotiation, the parameters PostgreSQL reports at login, and
//! registration for cancel requests. Authentication is `trust` for now.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::{DefaultServerParameterProvider, StartupHandler};
use pgwire::api::{
    ClientInfo, ConnectionManager, PidSecretKeyGenerator, RandomPidSecretKeyGenerator,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

use crate::session::server_version;

/// Answers StartupMessage with AuthenticationOk and PostgreSQL-16-shaped ParameterStatus values.
pub struct Startup {
    connections: Arc<ConnectionManager>,
    pids: Arc<RandomPidSecretKeyGenerator>,
}

impl Startup {
    /// A start-up handler registering connections with `connections` (for CancelRequest).
    pub fn new(
        connections: Arc<ConnectionManager>,
        pids: Arc<RandomPidSecretKeyGenerator>,
    ) -> Self {
        Self { connections, pids }
    }
}

fn parameters() -> DefaultServerParameterProvider {
    let mut params = DefaultServerParameterProvider::default();
    params.server_version = server_version();
    params.date_style = "ISO, MDY".into();
    params.time_zone = "UTC".into();
    params.client_encoding = Some("UTF8".into());
    params
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let PgWireFrontendMessage::Startup(ref startup) = message {
            pgwire::api::auth::protocol_negotiation(client, startup).await?;
            pgwire::api::auth::save_startup_parameters_to_metadata(client, startup);
            let (pid, key) = self.pids.generate(client);
            client.set_pid_and_secret_key(pid, key.clone());
            let (handle, guard) = self.connections.register(pid, key);
            client.session_extensions().insert(handle);
            client.session_extensions().insert(guard);
            tracing::debug!(
                peer = %client.socket_addr(),
                user = client.metadata().get("user").map(String::as_str).unwrap_or(""),
                database = client.metadata().get("database").map(String::as_str).unwrap_or(""),
                "connection started"
            );
            pgwire::api::auth::finish_authentication(client, &parameters()).await?;
        }
        Ok(())
    }
}
