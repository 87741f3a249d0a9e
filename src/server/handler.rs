//! The pgwire handlers of one connection over a [`Session`]: the handler set, the session slot
//! every handler shares, and the simple query protocol (the extended protocol is `prepared` and
//! `extended`, COPY's data `copy_in`).

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::{Sink, SinkExt};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::copy::CopyHandler;
use pgwire::api::portal::Format;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::Response;
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionHandle, ConnectionManager, PgWireServerHandlers,
    RandomPidSecretKeyGenerator,
};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::startup::ParameterStatus;
use tokio::sync::Mutex;

use super::encode;
use super::prepared::StatementParser;
use super::startup::Startup;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind};
use crate::plan::CopyLoad;
use crate::session::{QueryOutput, Session};

/// What every connection shares.
pub struct Shared {
    /// The query engine.
    pub engine: Arc<Engine>,
    /// Running connections, for CancelRequest.
    pub connections: Arc<ConnectionManager>,
    /// Process ids and secret keys for BackendKeyData.
    pub pids: Arc<RandomPidSecretKeyGenerator>,
    /// Statements currently executing, so shutdown can wait for them.
    pub active_statements: Arc<AtomicUsize>,
    /// Who may log in.
    pub auth: Arc<super::startup::Authenticator>,
    /// The statement registry the console reads.
    pub statements: Arc<crate::activity::Activity>,
}

/// The handler set pgwire asks for once per connection.
pub struct ConnectionHandlers {
    query: Arc<QueryHandler>,
    startup: Arc<Startup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl ConnectionHandlers {
    /// What the idle-session timeout watches.
    pub fn activity(&self) -> Arc<super::idle::Activity> {
        self.query.slot.activity.clone()
    }

    /// Handlers with a fresh session slot for one new connection.
    pub fn new(shared: &Shared) -> Self {
        let session = Arc::new(SessionSlot {
            engine: shared.engine.clone(),
            session: Mutex::new(None),
            active: shared.active_statements.clone(),
            copy: Mutex::new(None),
            activity: super::idle::Activity::new(),
            statements: shared.statements.clone(),
            connection: std::sync::OnceLock::new(),
            _open: shared.statements.connection_opened(),
        });
        Self {
            query: Arc::new(QueryHandler {
                parser: Arc::new(StatementParser {
                    slot: session.clone(),
                }),
                slot: session,
            }),
            startup: Arc::new(Startup::new(
                shared.connections.clone(),
                shared.pids.clone(),
                shared.auth.clone(),
            )),
            cancel: Arc::new(DefaultCancelHandler::new(shared.connections.clone())),
        }
    }
}

impl PgWireServerHandlers for ConnectionHandlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.query.clone()
    }
    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.query.clone()
    }
    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }
    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }
    fn copy_handler(&self) -> Arc<impl CopyHandler> {
        self.query.clone()
    }
}

/// The connection's session, created on first use from the startup parameters.
pub(super) struct SessionSlot {
    engine: Arc<Engine>,
    session: Mutex<Option<Session>>,
    pub(super) active: Arc<AtomicUsize>,
    /// A COPY FROM STDIN in progress: the load the data streams into.
    pub(super) copy: Mutex<Option<CopyLoad>>,
    /// For the idle-session timeout.
    pub(super) activity: Arc<super::idle::Activity>,
    /// The statement registry.
    statements: Arc<crate::activity::Activity>,
    /// Who this connection is, for the registry (known once the startup finished).
    connection: std::sync::OnceLock<Arc<crate::activity::ConnectionInfo>>,
    /// Counts the connection as open while it lives.
    _open: crate::activity::ConnectionGuard,
}

impl SessionSlot {
    /// Registers a statement of this connection with the statement registry.
    pub(super) fn track<C: ClientInfo>(
        &self,
        client: &C,
        sql: &str,
        statement: Option<&crate::dialect::Statement>,
    ) -> crate::activity::Tracker {
        let connection = self.connection.get_or_init(|| {
            let metadata = client.metadata();
            let handle = client.session_extensions().get::<Arc<ConnectionHandle>>();
            let cancel: Option<crate::activity::CancelFn> = handle.map(|h| {
                let h = h.as_ref().clone();
                Arc::new(move || {
                    let h = h.clone();
                    Box::pin(async move { h.cancel().await })
                        as futures::future::BoxFuture<'static, bool>
                }) as crate::activity::CancelFn
            });
            Arc::new(crate::activity::ConnectionInfo {
                pid: client.pid_and_secret_key().0,
                user: metadata.get("user").cloned().unwrap_or_default(),
                application_name: metadata
                    .get("application_name")
                    .cloned()
                    .unwrap_or_default(),
                client_addr: client.socket_addr().to_string(),
                cancel,
            })
        });
        let writes = statement
            .map(|s| s.written_tables().iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        self.statements.start(connection.clone(), sql, writes)
    }

    /// A statement's output as the response the client gets in `format`, tracked for the
    /// console and cancellable (both protocols).
    pub(super) fn respond<C: ClientInfo>(
        &self,
        client: &C,
        session: &Session,
        output: QueryOutput,
        tracker: crate::activity::Tracker,
        format: &Format,
    ) -> PgWireResult<Response> {
        let options = encode::format_options(session.settings());
        let handle = client.session_extensions().get::<Arc<ConnectionHandle>>();
        let output = super::cancel::cancellable(
            super::tracked::tracked(output, tracker),
            handle.map(|h| h.as_ref().clone()),
            self.activity.busy(),
        );
        encode::response(output, format, options)
    }

    pub(super) async fn lock<C: ClientInfo>(
        &self,
        client: &C,
    ) -> tokio::sync::MappedMutexGuard<'_, Session> {
        let mut guard = self.session.lock().await;
        if guard.is_none() {
            let params: Vec<(String, String)> = client
                .metadata()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            *guard = Some(Session::new(self.engine.clone(), &params));
        }
        tokio::sync::MutexGuard::map(guard, |s| s.as_mut().expect("created above"))
    }
}

/// Counts a running statement for graceful shutdown.
pub(super) struct ActiveStatement(Arc<AtomicUsize>);

impl ActiveStatement {
    pub(super) fn start(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter.clone())
    }
}

impl Drop for ActiveStatement {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Simple and extended query handling.
pub struct QueryHandler {
    pub(super) slot: Arc<SessionSlot>,
    pub(super) parser: Arc<StatementParser>,
}

/// Sends what the session queued for the client: notices, then changed parameters.
pub(super) async fn flush_session_messages<C>(
    client: &mut C,
    session: &mut Session,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    for notice in session.take_notices() {
        client.feed(encode::notice_message(&notice)).await?;
    }
    for change in session.take_reported_changes() {
        client
            .feed(PgWireBackendMessage::ParameterStatus(ParameterStatus::new(
                change.name,
                change.value,
            )))
            .await?;
    }
    Ok(())
}

/// Runs `work` while relaying the notices it produces to the client as they come (OPTIMIZE and
/// MERGE report progress this way), then the rest.
pub(super) async fn relay_notices<C, F, T>(
    client: &mut C,
    mut notices: tokio::sync::mpsc::UnboundedReceiver<crate::session::Notice>,
    work: F,
) -> PgWireResult<T>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    F: std::future::Future<Output = T>,
{
    tokio::pin!(work);
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            Some(notice) = notices.recv() => {
                client.send(encode::notice_message(&notice)).await?;
            }
        }
    };
    while let Ok(notice) = notices.try_recv() {
        client.feed(encode::notice_message(&notice)).await?;
    }
    Ok(result)
}

/// Executes one statement with live notices.
async fn execute_live<C>(
    client: &mut C,
    session: &mut Session,
    statement: crate::dialect::Statement,
) -> PgWireResult<crate::error::Result<QueryOutput>>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    session.set_live_notices(Some(tx));
    // Boxed: the statement's future is large; moved by pointer, not copied at every await.
    let result = relay_notices(client, rx, Box::pin(session.execute(statement))).await;
    session.set_live_notices(None);
    result
}

#[async_trait]
impl SimpleQueryHandler for QueryHandler {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let _active = ActiveStatement::start(&self.slot.active);
        let _busy = self.slot.activity.busy();
        let mut session = self.slot.lock(client).await;
        // A repeat of a statement whose text alone decides its plan runs that plan again.
        if let Some(result) = session.run_remembered(query) {
            let tracker = self.slot.track(client, query.trim(), None);
            return Ok(vec![match result {
                Ok(output) => {
                    self.slot
                        .respond(client, &session, output, tracker, &Format::UnifiedText)?
                }
                Err(e) => failed(&e, tracker),
            }]);
        }
        let statements = match session.parse(query) {
            Ok(s) => s,
            Err(e) => return Ok(vec![Response::Error(Box::new(encode::error_info(&e)))]),
        };
        if statements.is_empty() {
            return Ok(vec![Response::EmptyQuery]);
        }
        let mut responses = Vec::with_capacity(statements.len());
        let single = statements.len() == 1;
        for statement in statements {
            // One statement: the client's own text; several: each as parsed.
            let tracker = if single {
                self.slot.track(client, query.trim(), Some(&statement))
            } else {
                self.slot
                    .track(client, &statement.to_string(), Some(&statement))
            };
            let result = execute_live(client, &mut session, statement).await?;
            flush_session_messages(client, &mut session).await?;
            match result {
                Ok(output) => {
                    if single {
                        session.remember_text(query);
                    }
                    if let QueryOutput::CopyIn(copy) = &output {
                        *self.slot.copy.lock().await = copy.take_load();
                    }
                    responses.push(self.slot.respond(
                        client,
                        &session,
                        output,
                        tracker,
                        &Format::UnifiedText,
                    )?);
                }
                Err(e) => {
                    responses.push(failed(&e, tracker));
                    break;
                }
            }
        }
        Ok(responses)
    }
}

/// A failed statement: recorded, logged and answered with an ErrorResponse.
fn failed(e: &Error, tracker: crate::activity::Tracker) -> Response {
    tracker.failed(e.sqlstate(), &e.message);
    log_error(e);
    Response::Error(Box::new(encode::error_info(e)))
}

pub(super) fn log_error(e: &Error) {
    if e.kind == ErrorKind::Internal {
        tracing::warn!(sqlstate = e.sqlstate(), error = %e.message, "statement failed");
    } else {
        tracing::debug!(sqlstate = e.sqlstate(), error = %e.message, "statement failed");
    }
}
