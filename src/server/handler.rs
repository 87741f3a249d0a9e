//! The pgwire handlers of one connection: simple and extended query protocol over a [`Session`].

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_pg::datatypes::into_pg_type;
use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use futures::future::{Either, select};
use futures::{Sink, SinkExt};
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::copy::CopyHandler;
use pgwire::api::portal::PortalExecutionState;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::query::{send_execution_response, send_query_response};
use pgwire::api::results::{FieldInfo, Response};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::Entry;
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionManager, PgWireServerHandlers,
    RandomPidSecretKeyGenerator, Type,
};
use pgwire::api::{ConnectionHandle, DEFAULT_NAME, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::extendedquery::{Bind, Describe, Execute, Parse};
use pgwire::messages::response::EmptyQueryResponse;
use pgwire::messages::startup::ParameterStatus;
use tokio::sync::Mutex;

use super::encode::{self, pg_error};
use super::parameters::{declared_type, decode_parameters};
use super::startup::Startup;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind};
use crate::plan::CopyLoad;
use crate::session::{Prepared, QueryOutput, Session};

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
struct SessionSlot {
    engine: Arc<Engine>,
    session: Mutex<Option<Session>>,
    active: Arc<AtomicUsize>,
    /// A COPY FROM STDIN in progress: the load the data streams into.
    copy: Mutex<Option<CopyLoad>>,
    /// For the idle-session timeout.
    activity: Arc<super::idle::Activity>,
    /// The statement registry.
    statements: Arc<crate::activity::Activity>,
    /// Who this connection is, for the registry (known once the startup finished).
    connection: std::sync::OnceLock<Arc<crate::activity::ConnectionInfo>>,
    /// Counts the connection as open while it lives.
    _open: crate::activity::ConnectionGuard,
}

impl SessionSlot {
    /// Registers a statement of this connection with the statement registry.
    fn track<C: ClientInfo>(
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
    fn respond<C: ClientInfo>(
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

    async fn lock<C: ClientInfo>(&self, client: &C) -> tokio::sync::MappedMutexGuard<'_, Session> {
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
struct ActiveStatement(Arc<AtomicUsize>);

impl ActiveStatement {
    fn start(counter: &Arc<AtomicUsize>) -> Self {
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
    slot: Arc<SessionSlot>,
    parser: Arc<StatementParser>,
}

/// Sends what the session queued for the client: notices, then changed parameters.
async fn flush_session_messages<C>(client: &mut C, session: &mut Session) -> PgWireResult<()>
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
async fn relay_notices<C, F, T>(
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

fn log_error(e: &Error) {
    if e.kind == ErrorKind::Internal {
        tracing::warn!(sqlstate = e.sqlstate(), error = %e.message, "statement failed");
    } else {
        tracing::debug!(sqlstate = e.sqlstate(), error = %e.message, "statement failed");
    }
}

/// Parses Parse messages into prepared statements (described once, at Parse time).
pub struct StatementParser {
    slot: Arc<SessionSlot>,
}

/// A prepared statement with its parameter types as PostgreSQL types.
#[derive(Debug, Clone)]
pub struct PreparedStatement {
    pub(super) prepared: Arc<Prepared>,
    pub(super) param_types: Vec<Type>,
    /// The text the client prepared, for the statement registry.
    sql: Arc<str>,
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
