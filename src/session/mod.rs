//! [`Session`]: one client connection's state and the single entry point for running SQL.
//!
//! The session owns what PostgreSQL keeps per backend: run-time parameters (SET / SHOW / RESET),
//! the transaction-block state and the DataFusion settings of this connection. It knows nothing of
//! the wire protocol: it turns statements into [`QueryOutput`]s and collects [`Notice`]s.

mod setting_functions;
mod settings;
mod transaction;

use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::prelude::SessionContext;
use sqlparser::ast::{self, Expr, Value};

pub use crate::dialect::display_name;
pub use crate::output::{CommandTag, Notice, NoticeSeverity, Notices, QueryOutput, RowSet};

/// The report of an executed query plan the statement registry keeps (see
/// `plan::executed_plan_json`): the wire layer reads it after a query's last row.
pub fn executed_plan_report(
    plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) -> String {
    crate::plan::executed_plan_json(plan).to_string()
}

/// Bytes an executed query plan spilled to disk (for `/metrics`).
pub fn spilled_bytes(plan: &std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>) -> u64 {
    crate::plan::spilled_bytes(plan)
}
pub use settings::{ReportedChange, Settings, server_version};
use transaction::Transaction;

use crate::catalog::{self, DEFAULT_SCHEMA};
use crate::dialect::{self, Statement};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use crate::plan::{self, Description, PlanContext};

/// A statement parsed and described once, executed many times (extended protocol).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The statement; None for an empty query string.
    pub statement: Option<Statement>,
    /// Parameter types and result columns.
    pub description: Description,
}

/// The user of sessions without a connection (the pipeline runner's embedded mode).
const EMBEDDED_USER: &str = "deltagres";

/// A new DataFusion context for a session of `user`, with `temp` as its `pg_temp` schema.
fn fresh_context(engine: &Engine, user: &str, temp: &catalog::TempTables) -> SessionContext {
    let df = catalog::attach_session_catalog(engine.new_context(), temp);
    catalog::identify_session(&df, user);
    df
}

/// One connection's state.
pub struct Session {
    engine: Arc<Engine>,
    /// The name the client logged in as.
    user: String,
    df: SessionContext,
    /// `CREATE TEMP TABLE`s: this session's only, gone when it ends.
    temp: catalog::TempTables,
    settings: Settings,
    transaction: Transaction,
    notices: Notices,
    reported: Vec<ReportedChange>,
    /// Plans of statements that read nothing, reused while no setting changes.
    plan_cache: plan::PlanCache,
    /// The settings' generation `pg_settings` was last given.
    synced_settings: Option<u64>,
    /// Whether the last statement's plan follows from its text alone.
    text_decides_plan: bool,
    /// Set when the rows of a statement run inside a block failed while streaming.
    stream_failed: Arc<std::sync::atomic::AtomicBool>,
}

impl Session {
    /// A new session; `startup` holds the startup packet's parameters (application_name, ...).
    pub fn new(engine: Arc<Engine>, startup: &[(String, String)]) -> Self {
        let user = startup
            .iter()
            .find(|(name, _)| name == "user")
            .map(|(_, value)| value.clone())
            .unwrap_or_else(|| EMBEDDED_USER.to_string());
        let temp = catalog::TempTables::default();
        let df = fresh_context(&engine, &user, &temp);
        let mut settings = Settings::new();
        settings.apply_startup(startup);
        Self {
            engine,
            user,
            df,
            temp,
            settings,
            transaction: Transaction::default(),
            notices: Notices::default(),
            reported: Vec::new(),
            plan_cache: plan::PlanCache::default(),
            synced_settings: None,
            text_decides_plan: false,
            stream_failed: Arc::default(),
        }
    }

    /// Notices produced since the last call, to be sent before the statement's result.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        self.notices.take()
    }

    /// Sends notices to `live` while statements run (progress of long operations), or buffers
    /// them for [`Session::take_notices`] when None.
    pub fn set_live_notices(&mut self, live: Option<tokio::sync::mpsc::UnboundedSender<Notice>>) {
        self.notices.set_live(live);
    }

    /// Parameter changes clients must be told of (ParameterStatus), since the last call.
    pub fn take_reported_changes(&mut self) -> Vec<ReportedChange> {
        std::mem::take(&mut self.reported)
    }

    /// The session's run-time parameters.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether a transaction block is open, and whether it has failed (for ReadyForQuery).
    pub fn transaction_state(&self) -> (bool, bool) {
        (self.transaction.in_block(), self.transaction.is_failed())
    }

    /// Parses SQL text into statements (no execution).
    pub fn parse(&self, sql: &str) -> Result<Vec<Statement>> {
        std::panic::catch_unwind(|| dialect::parse_sql(sql))
            .unwrap_or_else(|panic| Err(panicked("parsing", panic.as_ref())))
    }

    /// Runs one statement. Errors inside a transaction block mark the block failed, as in
    /// PostgreSQL; the connection itself always stays usable.
    pub async fn execute(&mut self, statement: Statement) -> Result<QueryOutput> {
        tracing::debug!(statement = %statement, "execute");
        self.note_stream_failure();
        if self.transaction.is_failed() && !is_transaction_end(&statement) {
            return Err(Error::new(
                ErrorKind::InFailedTransaction,
                "current transaction is aborted, commands ignored until end of transaction block",
            ));
        }
        let writes = statement.is_write();
        if writes && self.settings.read_only() {
            return Err(Error::new(
                ErrorKind::ReadOnlyTransaction,
                format!(
                    "cannot execute {} in a read-only transaction",
                    statement.command_name()
                ),
            ));
        }
        let timeout_ms = self.settings.statement_timeout_ms();
        let result = if timeout_ms > 0 {
            let deadline = tokio::time::Instant::now() + Duration::from_millis(timeout_ms);
            match tokio::time::timeout_at(
                deadline,
                guarded("running the statement", Box::pin(self.dispatch(statement))),
            )
            .await
            {
                // Rows are computed while they stream: the deadline holds there too.
                Ok(Ok(QueryOutput::Rows(rows))) => {
                    Ok(QueryOutput::Rows(rows.with_deadline(deadline)))
                }
                Ok(r) => r,
                Err(_) => Err(statement_timeout()),
            }
        } else {
            guarded("running the statement", Box::pin(self.dispatch(statement))).await
        };
        // Rows fail while they stream, after this returns: inside a block the failure must
        // still fail the block, as PostgreSQL's `SELECT 1/0` does.
        let result = match result {
            Ok(QueryOutput::Rows(rows)) if self.transaction.in_block() => Ok(QueryOutput::Rows(
                rows.flagging_failure(self.stream_failed.clone()),
            )),
            other => other,
        };
        match &result {
            // COPY FROM STDIN commits when its data is done (`copy_done`).
            Ok(QueryOutput::CopyIn(_)) => {}
            Ok(_) if writes => self.transaction.record_write(),
            Err(_) => self.transaction.fail(),
            _ => {}
        }
        result
    }

    /// Parses and describes a statement for the extended protocol; `declared` are the parameter
    /// types the client's Parse message names (None where it left one to the server).
    pub async fn prepare(&mut self, sql: &str, declared: &[Option<DataType>]) -> Result<Prepared> {
        // A text with declared parameter types is another statement than the same text without.
        let declares = declared.iter().any(Option::is_some);
        if !declares && let Some((statement, description)) = self.plan_cache.described(sql) {
            return Ok(Prepared {
                statement: Some(statement),
                description,
            });
        }
        let parsed = std::panic::catch_unwind(|| dialect::parse_single(sql))
            .unwrap_or_else(|panic| Err(panicked("parsing", panic.as_ref())))?;
        let Some(mut statement) = parsed else {
            return Ok(Prepared {
                statement: None,
                description: Description::default(),
            });
        };
        plan::cast_declared_parameters(&mut statement, declared);
        let description = match &statement {
            Statement::Sql(s) if is_session_statement(s) => Description {
                param_types: Vec::new(),
                uuid_params: Vec::new(),
                result_schema: self.session_statement_schema(s),
            },
            _ => {
                // Described with the settings' values as they are now; a set_config only
                // takes effect when the statement runs.
                let mut inlined = statement.clone();
                let catalog = self.engine.catalog().clone();
                setting_functions::inline(&mut inlined, &mut self.settings.clone(), &|s| {
                    catalog.schema_exists(s)
                })?;
                let default_schema = self.sync_default_schema();
                let mut cx = self.plan_context(&default_schema);
                let description = guarded(
                    "describing the statement",
                    plan::describe(&mut cx, &inlined),
                )
                .await?;
                // Its text alone decides what it is (no relation, no setting function put in):
                // the next Parse of the same text is answered from here.
                let text_decides = matches!(&statement, Statement::Sql(s)
                    if matches!(s.as_ref(), ast::Statement::Query(_)) && plan::reads_no_relation(s));
                if text_decides
                    && !declares
                    && plan::plan_cache_enabled(&self.settings)
                    && statement.to_string() == inlined.to_string()
                {
                    self.plan_cache
                        .keep_described(sql, statement.clone(), description.clone());
                }
                description
            }
        };
        Ok(Prepared {
            statement: Some(statement),
            description,
        })
    }

    /// Executes a prepared statement with parameter values.
    pub async fn execute_prepared(
        &mut self,
        prepared: &Prepared,
        params: &[ScalarValue],
    ) -> Result<QueryOutput> {
        let Some(statement) = &prepared.statement else {
            return Ok(QueryOutput::Empty);
        };
        let mut statement = statement.clone();
        plan::bind_parameters(&mut statement, params)?;
        self.execute(statement).await
    }

    /// Ends a COPY FROM STDIN at CopyDone: the rest is written and committed as one version.
    pub async fn copy_done(&mut self, load: plan::CopyLoad) -> Result<QueryOutput> {
        let result = guarded("running COPY", load.finish()).await;
        match &result {
            Ok(_) => self.transaction.record_write(),
            Err(_) => self.transaction.fail(),
        }
        Ok(QueryOutput::Command(CommandTag::Copy(result?)))
    }

    /// A COPY FROM STDIN that failed before CopyDone (CopyFail): the block fails as in
    /// PostgreSQL; nothing was committed.
    pub fn copy_failed(&mut self) {
        self.transaction.fail();
    }

    async fn dispatch(&mut self, mut statement: Statement) -> Result<QueryOutput> {
        // Kept plans hold the settings they were made with: anything but a query (SET, RESET,
        // DISCARD, transaction ends, DDL, writes), or a query that calls set_config, starts over.
        let plain_query = matches!(&statement, Statement::Sql(s) if matches!(s.as_ref(), ast::Statement::Query(_)));
        if !plain_query {
            self.plan_cache.clear();
        }
        self.plan_cache.forget_last();
        self.text_decides_plan = false;
        // The text of a query that names no relation decides its plan, unless a setting
        // function is put in below (its value is in the plan).
        let text_before_inline = match &statement {
            Statement::Sql(s) if plain_query && plan::reads_no_relation(s) => {
                Some(statement.to_string())
            }
            _ => None,
        };
        if let Statement::Sql(s) = &statement {
            use ast::Statement as S;
            match s.as_ref() {
                S::StartTransaction { .. } => return Ok(self.transaction.begin(&mut self.notices)),
                S::Commit { .. } => return Ok(self.transaction.commit(&mut self.notices)),
                S::Rollback {
                    savepoint: None, ..
                } => return Ok(self.transaction.rollback(&mut self.notices)),
                S::Set(set) => return self.set(set),
                S::ShowVariable { variable } => return self.show(variable),
                S::Reset(reset) => return self.reset(&reset.reset),
                // psycopg sends DEALLOCATE ALL after every DDL once it has prepared statements;
                // DataFusion took `ALL` for a statement's name (22000). Statements prepared over
                // the protocol live in the connection and are replaced by name when prepared
                // again, as psycopg does after this.
                S::Deallocate { name, .. } if name.value.eq_ignore_ascii_case("all") => {
                    return Ok(QueryOutput::Command(CommandTag::Other(
                        "DEALLOCATE ALL".into(),
                    )));
                }
                S::Discard { .. } => {
                    // DISCARD ALL also drops the session's temporary tables.
                    self.temp = catalog::TempTables::default();
                    self.reset_all();
                    return Ok(QueryOutput::Command(CommandTag::Other(
                        "DISCARD ALL".into(),
                    )));
                }
                _ => {}
            }
        }
        let catalog = self.engine.catalog().clone();
        let changes = setting_functions::inline(&mut statement, &mut self.settings, &|s| {
            catalog.schema_exists(s)
        })?;
        if !changes.is_empty() {
            self.plan_cache.clear();
        }
        self.reported.extend(changes);
        self.text_decides_plan =
            text_before_inline.is_some_and(|before| before == statement.to_string());
        let default_schema = self.sync_default_schema();
        let mut cx = self.plan_context(&default_schema);
        plan::execute(&mut cx, statement).await
    }

    /// Runs the client's query text `sql` with the plan it ran with last time, when its text
    /// alone decides that plan and no setting changed since (a connection pool's `SELECT 1`):
    /// no parsing, no rewriting, no planning. None: run it the usual way.
    pub fn run_remembered(&mut self, sql: &str) -> Option<Result<QueryOutput>> {
        self.note_stream_failure();
        if self.transaction.is_failed() || self.transaction.in_block() {
            return None;
        }
        let kept = self.plan_cache.get_by_text(sql)?;
        tracing::debug!(statement = sql, "execute (plan reused)");
        let timeout_ms = self.settings.statement_timeout_ms();
        Some(plan::run_kept(kept).map(|output| match output {
            QueryOutput::Rows(rows) if timeout_ms > 0 => QueryOutput::Rows(
                rows.with_deadline(tokio::time::Instant::now() + Duration::from_millis(timeout_ms)),
            ),
            other => other,
        }))
    }

    /// Fails the open block if the last statement's rows failed while streaming.
    fn note_stream_failure(&mut self) {
        if self
            .stream_failed
            .swap(false, std::sync::atomic::Ordering::Relaxed)
            && self.transaction.in_block()
        {
            self.transaction.fail();
        }
    }

    /// After a statement sent alone as `sql` ran: lets [`Session::run_remembered`] find its
    /// plan by that text, if the plan was kept and its text alone decides it.
    pub fn remember_text(&mut self, sql: &str) {
        if std::mem::take(&mut self.text_decides_plan) {
            self.plan_cache.remember_text(sql);
        }
    }

    /// What the planner needs from this session for one statement.
    fn plan_context<'a>(&'a mut self, default_schema: &'a str) -> PlanContext<'a> {
        PlanContext {
            df: &self.df,
            catalog: self.engine.catalog(),
            default_schema,
            notices: &mut self.notices,
            settings: &self.settings,
            allowed_paths: self.engine.allowed_paths(),
            temp: &self.temp,
            plan_cache: &mut self.plan_cache,
            session_df: true,
        }
    }

    /// Points DataFusion's name resolution at the current default schema (it may change with
    /// `SET search_path` or when a schema named there is created) and returns it; when a
    /// setting changed since the last call, also hands the parameters to `pg_settings` and the
    /// time zone to DataFusion.
    fn sync_default_schema(&mut self) -> String {
        let schema = self.default_schema();
        let generation = self.settings.generation();
        let settings_changed = self.synced_settings != Some(generation);
        if settings_changed {
            // set_config and the end of a block with SET LOCAL change the time zone without SET.
            self.sync_time_zone();
        }
        let state = self.df.state_ref();
        let mut state = state.write();
        let options = state.config_mut().options_mut();
        if options.catalog.default_schema != schema {
            options.catalog.default_schema = schema.clone();
            self.plan_cache.forget_snapshot();
        }
        // Copied for pg_settings only when a value changed since the last statement.
        if settings_changed {
            state
                .config_mut()
                .set_extension(Arc::new(catalog::SessionSettings(self.settings.all())));
            self.synced_settings = Some(generation);
            self.plan_cache.forget_snapshot();
        }
        schema
    }

    /// Makes DataFusion's time zone (timestamptz display, `now()`, `extract`) the session's
    /// `TimeZone` when something other than SET changed it.
    fn sync_time_zone(&self) {
        let Ok(tz) = self.settings.get("timezone") else {
            return;
        };
        let current = self
            .df
            .state_ref()
            .read()
            .config()
            .options()
            .execution
            .time_zone
            .clone();
        if current.as_deref() != Some(tz.as_str()) {
            // The value was checked when the setting took it.
            let _ = set_datafusion_option(&self.df, "datafusion.execution.time_zone", &tz);
        }
    }

    /// The schema unqualified names resolve to: the first existing `search_path` schema.
    fn default_schema(&self) -> String {
        self.settings
            .first_search_path_schema()
            .filter(|s| self.engine.catalog().schema_exists(s))
            .unwrap_or_else(|| DEFAULT_SCHEMA.to_string())
    }

    fn set(&mut self, set: &ast::Set) -> Result<QueryOutput> {
        use ast::Set;
        match set {
            Set::SingleAssignment {
                variable, values, ..
            } => {
                let name = variable.to_string();
                let value = values_to_string(values)?;
                self.set_one(&name, value)?;
            }
            Set::SetTimeZone { value, .. } => {
                let value = values_to_string(std::slice::from_ref(value))?;
                self.set_one("TimeZone", value)?;
            }
            Set::SetNames { charset_name, .. } => {
                self.set_one("client_encoding", Some(charset_name.value.clone()))?;
            }
            Set::SetTransaction {
                modes,
                session: true,
                ..
            } => {
                // `SET SESSION CHARACTERISTICS AS TRANSACTION ...` (Metabase, JDBC's
                // setTransactionIsolation): the defaults SHOW reports from now on.
                for mode in modes {
                    let (name, value) = match mode {
                        ast::TransactionMode::IsolationLevel(level) => (
                            "default_transaction_isolation",
                            level.to_string().to_ascii_lowercase(),
                        ),
                        ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadOnly) => {
                            ("default_transaction_read_only", "on".into())
                        }
                        ast::TransactionMode::AccessMode(ast::TransactionAccessMode::ReadWrite) => {
                            ("default_transaction_read_only", "off".into())
                        }
                    };
                    self.set_one(name, Some(value))?;
                }
            }
            Set::SetTransaction { .. }
            | Set::SetSessionParam(_)
            | Set::SetRole { .. }
            | Set::SetSessionAuthorization(_) => {}
            Set::MultipleAssignments { assignments } => {
                for a in assignments {
                    let value = values_to_string(std::slice::from_ref(&a.value))?;
                    self.set_one(&a.name.to_string(), value)?;
                }
            }
            other => return Err(Error::unsupported(format!("{other} is not supported"))),
        }
        Ok(QueryOutput::Command(CommandTag::Other("SET".into())))
    }

    /// Sets one parameter: `datafusion.*` goes to this session's DataFusion config, the rest to the
    /// PostgreSQL-style settings. `None` means DEFAULT.
    fn set_one(&mut self, name: &str, value: Option<String>) -> Result<()> {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("datafusion.") {
            // DataFusion's options take true/false and bare words: `SET x = true` arrives as
            // PostgreSQL's `on`, `SET x = "tree"` as a quoted identifier.
            let value = match value.as_deref() {
                Some("on") => "true".to_string(),
                Some("off") => "false".to_string(),
                Some(v) => v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(v)
                    .to_string(),
                None => default_datafusion_value(&lower)?,
            };
            set_datafusion_option(&self.df, &lower, &value).map_err(|e| {
                Error::new(
                    ErrorKind::InvalidParameterValue,
                    format!(
                        "invalid value for {name}: {}",
                        crate::error::Error::from(e).message
                    ),
                )
            })?;
            return Ok(());
        }
        if let Some(change) = self.settings.set(name, value)? {
            self.reported.push(change);
        }
        if lower == "timezone" || lower == "time zone" {
            let tz = self.settings.get("timezone")?;
            // Checked by `settings.set` above.
            let _ = set_datafusion_option(&self.df, "datafusion.execution.time_zone", &tz);
        }
        Ok(())
    }

    fn show(&mut self, variable: &[ast::Ident]) -> Result<QueryOutput> {
        let name = show_target(variable);
        let lower = name.to_ascii_lowercase();
        if lower == "all" {
            let rows = self.settings.all();
            let names: Vec<&str> = rows.iter().map(|(n, _)| n.as_str()).collect();
            let values: Vec<&str> = rows.iter().map(|(_, v)| v.as_str()).collect();
            let batch = RecordBatch::try_new(
                show_schema(&name),
                vec![
                    Arc::new(StringArray::from(names)),
                    Arc::new(StringArray::from(values)),
                ],
            )?;
            return Ok(QueryOutput::from_batch(batch, "SHOW"));
        }
        let value = if lower.starts_with("datafusion.") {
            self.df
                .state()
                .config()
                .options()
                .entries()
                .into_iter()
                .find(|e| e.key == lower)
                .map(|e| e.value.unwrap_or_default())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::UndefinedObject,
                        format!("unrecognized configuration parameter \"{name}\""),
                    )
                })?
        } else {
            self.settings.get(&lower)?
        };
        let batch = RecordBatch::try_new(
            show_schema(&name),
            vec![Arc::new(StringArray::from(vec![value]))],
        )?;
        Ok(QueryOutput::from_batch(batch, "SHOW"))
    }

    /// RESET ALL and DISCARD ALL: every parameter at its default, DataFusion's options too.
    fn reset_all(&mut self) {
        self.reported.extend(self.settings.reset_all());
        self.df = fresh_context(&self.engine, &self.user, &self.temp);
    }

    fn reset(&mut self, reset: &ast::Reset) -> Result<QueryOutput> {
        match reset {
            ast::Reset::ALL => self.reset_all(),
            ast::Reset::ConfigurationParameter(name) => self.set_one(&name.to_string(), None)?,
        }
        Ok(QueryOutput::Command(CommandTag::Other("RESET".into())))
    }

    fn session_statement_schema(&self, s: &ast::Statement) -> Option<Arc<Schema>> {
        match s {
            ast::Statement::ShowVariable { variable } => Some(show_schema(&show_target(variable))),
            _ => None,
        }
    }
}

/// The parameter a SHOW names: `SHOW TIME ZONE` is two words, `SHOW datafusion.execution.batch_size`
/// one dotted name.
fn show_target(variable: &[ast::Ident]) -> String {
    let words: Vec<String> = variable.iter().map(|i| i.value.clone()).collect();
    let spaced = words.join(" ").to_ascii_lowercase();
    if matches!(
        spaced.as_str(),
        "time zone" | "transaction isolation level" | "session authorization" | "all"
    ) {
        words.join(" ")
    } else {
        words.join(".")
    }
}

/// SHOW's result columns, the same for Describe and for execution: PostgreSQL names the column
/// after the parameter (`TimeZone` for `SHOW time zone`); SHOW ALL has a name and a setting.
fn show_schema(name: &str) -> Arc<Schema> {
    let lower = name.to_ascii_lowercase();
    let fields = if lower == "all" {
        vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("setting", DataType::Utf8, false),
        ]
    } else if lower.starts_with("datafusion.") {
        vec![Field::new(lower, DataType::Utf8, false)]
    } else {
        vec![Field::new(
            Settings::display_name(name),
            DataType::Utf8,
            false,
        )]
    };
    Arc::new(Schema::new(fields))
}

/// Sets one DataFusion option and rebuilds the functions whose answers depend on the options
/// (now(), to_char and to_timestamp answer in the time zone), as DataFusion's own SET does: every
/// way a session changes an option goes through here.
fn set_datafusion_option(
    df: &SessionContext,
    key: &str,
    value: &str,
) -> datafusion::error::Result<()> {
    let state = df.state_ref();
    let mut state = state.write();
    state.config_mut().options_mut().set(key, value)?;
    let options = state.config().options().clone();
    let refreshed: Vec<_> = state
        .scalar_functions()
        .values()
        .filter_map(|f| f.inner().with_updated_config(&options))
        .collect();
    for function in refreshed {
        datafusion::execution::FunctionRegistry::register_udf(&mut *state, Arc::new(function))?;
    }
    Ok(())
}

fn default_datafusion_value(key: &str) -> Result<String> {
    datafusion::config::ConfigOptions::new()
        .entries()
        .into_iter()
        .find(|e| e.key == key)
        .map(|e| e.value.unwrap_or_default())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::UndefinedObject,
                format!("unrecognized configuration parameter \"{key}\""),
            )
        })
}

/// SET values as PostgreSQL renders them: `a, b` for lists, DEFAULT as None.
fn values_to_string(values: &[Expr]) -> Result<Option<String>> {
    let mut parts = Vec::new();
    for v in values {
        let text = match v {
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(s)
                | Value::DoubleQuotedString(s)
                | Value::EscapedStringLiteral(s) => s.clone(),
                Value::Number(n, _) => n.to_string(),
                Value::Boolean(b) => {
                    if *b {
                        "on".into()
                    } else {
                        "off".into()
                    }
                }
                other => other.to_string(),
            },
            Expr::Identifier(i)
                if i.value.eq_ignore_ascii_case("default") && i.quote_style.is_none() =>
            {
                return Ok(None);
            }
            Expr::Identifier(i) => {
                if i.quote_style.is_some() {
                    format!("\"{}\"", i.value)
                } else {
                    i.value.clone()
                }
            }
            Expr::UnaryOp {
                op: ast::UnaryOperator::Minus,
                expr,
            } => format!("-{}", expr),
            other => other.to_string(),
        };
        parts.push(text);
    }
    Ok(Some(parts.join(", ")))
}

fn is_transaction_end(statement: &Statement) -> bool {
    matches!(statement, Statement::Sql(s) if matches!(s.as_ref(), ast::Statement::Commit { .. } | ast::Statement::Rollback { .. }))
}

fn is_session_statement(s: &ast::Statement) -> bool {
    use ast::Statement as S;
    matches!(
        s,
        S::StartTransaction { .. }
            | S::Commit { .. }
            | S::Rollback { .. }
            | S::Set(_)
            | S::ShowVariable { .. }
            | S::Reset(_)
            | S::Discard { .. }
    ) || matches!(s, S::Deallocate { name, .. } if name.value.eq_ignore_ascii_case("all"))
}

/// Runs `work`, turning a panic into an XX000 error: one bad statement must not take down its
/// connection, let alone the server. The panic is logged with what was running.
async fn guarded<T>(what: &str, work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(panicked(what, panic.as_ref())),
    }
}

fn panicked(what: &str, panic: &(dyn std::any::Any + Send)) -> Error {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    tracing::error!(what, panic = %message, "internal error: a panic was caught");
    Error::internal(format!("internal error while {what}: {message}"))
        .with_hint("this is a bug in deltagres; the connection is still usable")
}

pub(crate) use crate::output::statement_timeout;
