//! Connection start-up: protocol negotiation, authentication (trust, cleartext password or
//! SCRAM-SHA-256 against the configured verifiers), the parameters PostgreSQL reports at login,
//! and registration for cancel requests.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{Sink, SinkExt};
use pgwire::api::auth::{DefaultServerParameterProvider, StartupHandler};
use pgwire::api::{
    ClientInfo, ConnectionManager, PgWireConnectionState, PidSecretKeyGenerator,
    RandomPidSecretKeyGenerator,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::startup::Authentication;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tokio::sync::Mutex;

use crate::auth::{AuthFailure, ScramExchange, ScramVerifier};
use crate::config::{AuthConfig, AuthMethod};
use crate::error::{Error, ErrorKind, Result};
use crate::session::server_version;

/// The configured method and users, parsed once at start.
#[derive(Debug)]
pub struct Authenticator {
    method: AuthMethod,
    users: HashMap<String, ScramVerifier>,
    tls_required: bool,
}

impl Authenticator {
    /// Reads `[auth]`; a verifier that does not parse stops the server from starting.
    pub fn from_config(auth: &AuthConfig, tls_required: bool) -> Result<Self> {
        let mut users = HashMap::new();
        for user in &auth.users {
            let verifier = ScramVerifier::parse(&user.verifier).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!("auth.users entry {}: {e}", user.name),
                )
                .with_hint("make verifiers with `deltagres passwd NAME`")
            })?;
            users.insert(user.name.clone(), verifier);
        }
        Ok(Self {
            method: auth.method,
            users,
            tls_required,
        })
    }
}

/// Where a connection's authentication stands.
enum AuthState {
    Start,
    AwaitPassword,
    AwaitScramFirst,
    AwaitScramFinal(Box<ScramExchange>),
}

/// Answers StartupMessage, authenticates, then sends AuthenticationOk and PostgreSQL-16-shaped
/// ParameterStatus values. One per connection.
pub struct Startup {
    connections: Arc<ConnectionManager>,
    pids: Arc<RandomPidSecretKeyGenerator>,
    auth: Arc<Authenticator>,
    state: Mutex<AuthState>,
}

impl Startup {
    /// A start-up handler checking logins with `auth` and registering connections with
    /// `connections` (for CancelRequest).
    pub fn new(
        connections: Arc<ConnectionManager>,
        pids: Arc<RandomPidSecretKeyGenerator>,
        auth: Arc<Authenticator>,
    ) -> Self {
        Self {
            connections,
            pids,
            auth,
            state: Mutex::new(AuthState::Start),
        }
    }

    async fn finish<C>(&self, client: &mut C) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
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
        pgwire::api::auth::finish_authentication(client, &parameters()).await
    }
}

/// The FATAL error of a failed login; the message never says whether the user or the password
/// was wrong (the SQLSTATE does, as in PostgreSQL: 28000 unknown user, 28P01 wrong password).
fn login_failed(user: &str, failure: AuthFailure) -> PgWireError {
    tracing::info!(user, ?failure, "authentication failed");
    let (code, message) = match failure {
        AuthFailure::UnknownUser => (
            "28000",
            format!("password authentication failed for user \"{user}\""),
        ),
        AuthFailure::WrongPassword => (
            "28P01",
            format!("password authentication failed for user \"{user}\""),
        ),
        AuthFailure::Protocol(m) => ("08P01", m),
    };
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".into(),
        code.into(),
        message,
    )))
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
        let user = client.metadata().get("user").cloned().unwrap_or_default();
        let mut state = self.state.lock().await;
        match message {
            PgWireFrontendMessage::Startup(ref startup) => {
                pgwire::api::auth::protocol_negotiation(client, startup).await?;
                pgwire::api::auth::save_startup_parameters_to_metadata(client, startup);
                if self.auth.tls_required && !client.is_secure() {
                    return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                        "FATAL".into(),
                        "28000".into(),
                        "this server accepts only TLS connections: connect with sslmode=require"
                            .into(),
                    ))));
                }
                match self.auth.method {
                    AuthMethod::Trust => {
                        drop(state);
                        return self.finish(client).await;
                    }
                    AuthMethod::Password => {
                        *state = AuthState::AwaitPassword;
                        client.set_state(PgWireConnectionState::AuthenticationInProgress);
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::CleartextPassword,
                            ))
                            .await?;
                    }
                    AuthMethod::ScramSha256 => {
                        *state = AuthState::AwaitScramFirst;
                        client.set_state(PgWireConnectionState::AuthenticationInProgress);
                        client
                            .send(PgWireBackendMessage::Authentication(Authentication::SASL(
                                vec!["SCRAM-SHA-256".into()],
                            )))
                            .await?;
                    }
                }
            }
            PgWireFrontendMessage::PasswordMessageFamily(message) => {
                match std::mem::replace(&mut *state, AuthState::Start) {
                    AuthState::AwaitPassword => {
                        let password = message.into_password()?.password;
                        match self.auth.users.get(&user) {
                            Some(v) if v.check_password(&password) => {
                                drop(state);
                                return self.finish(client).await;
                            }
                            Some(_) => return Err(login_failed(&user, AuthFailure::WrongPassword)),
                            None => return Err(login_failed(&user, AuthFailure::UnknownUser)),
                        }
                    }
                    AuthState::AwaitScramFirst => {
                        let initial = message.into_sasl_initial_response()?;
                        if initial.auth_method != "SCRAM-SHA-256" {
                            return Err(login_failed(
                                &user,
                                AuthFailure::Protocol(format!(
                                    "SASL mechanism {} is not supported; use SCRAM-SHA-256",
                                    initial.auth_method
                                )),
                            ));
                        }
                        let data = initial.data.unwrap_or_default();
                        let (exchange, server_first) =
                            ScramExchange::start(self.auth.users.get(&user), &user, &data)
                                .map_err(|f| login_failed(&user, f))?;
                        *state = AuthState::AwaitScramFinal(Box::new(exchange));
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLContinue(Bytes::from(server_first)),
                            ))
                            .await?;
                    }
                    AuthState::AwaitScramFinal(exchange) => {
                        let response = message.into_sasl_response()?;
                        let server_final = exchange
                            .finish(&response.data)
                            .map_err(|f| login_failed(&user, f))?;
                        client
                            .send(PgWireBackendMessage::Authentication(
                                Authentication::SASLFinal(Bytes::from(server_final)),
                            ))
                            .await?;
                        drop(state);
                        return self.finish(client).await;
                    }
                    AuthState::Start => {
                        return Err(login_failed(
                            &user,
                            AuthFailure::Protocol("password message before the start-up".into()),
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}
