//! The PostgreSQL wire protocol front end: accepts connections and runs each as a [`Session`] over
//! pgwire. Everything protocol-specific stays in this module.
//!
//! [`Session`]: crate::session::Session

mod cancel;
mod coalesced;
mod copy_in;
mod encode;
mod extended;
mod frames;
mod handler;
mod idle;
mod json_values;
mod param_casts;
mod parameters;
mod prepared;
mod refuse;
mod row_values;
mod startup;
mod tls;
mod tracked;
mod uuid_values;

pub use tls::{acceptor as tls_acceptor, development_certificates};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use pgwire::api::{ConnectionManager, RandomPidSecretKeyGenerator};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};
use handler::{ConnectionHandlers, Shared};

/// Stack of each runtime thread. Planning deeply nested SQL (subqueries in set operations,
/// long expression chains) recurses through the parser, the planner and the optimizer, and
/// tokio's 2 MiB default is too small for that, especially in debug builds; the memory is only
/// reserved, not committed.
pub const THREAD_STACK_BYTES: usize = 64 * 1024 * 1024;

/// The multi-threaded runtime the server (and our tools) run on.
pub fn build_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK_BYTES)
        .build()
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    shared: Shared,
    grace: Duration,
    max_connections: usize,
    tls: Option<pgwire::tokio::TlsAcceptor>,
    idle_timeout: Option<Duration>,
    /// `server.max_message_size` in bytes.
    max_message_bytes: usize,
    /// The web console, when `http.listen` is set and free.
    console: Option<crate::console::Listener>,
}

impl Server {
    /// Opens the data directory and binds the listen address.
    pub async fn bind(config: Config) -> Result<Self> {
        let grace = Duration::from_secs(config.server.shutdown_grace_secs);
        let auth = Arc::new(startup::Authenticator::from_config(
            &config.auth,
            config.tls.mode == crate::config::TlsMode::Require,
        )?);
        let tls = tls::acceptor(&config.tls)?;
        refuse_open_trust(&config)?;
        let max_connections = config.server.max_connections;
        let max_message_bytes = config
            .max_message_bytes()
            .map_err(|e| Error::new(ErrorKind::InvalidParameterValue, e.to_string()))?;
        let idle_timeout = (config.server.idle_session_timeout_secs > 0)
            .then(|| Duration::from_secs(config.server.idle_session_timeout_secs));
        let listen = config.server.listen.clone();
        let statements = crate::activity::Activity::new(
            config.http.recent_statements,
            !config.http.listen.trim().is_empty(),
        );
        let console_config = config.clone();
        let engine = Engine::open(config).await?;
        let listener = TcpListener::bind(&listen).await.map_err(|e| {
            Error::new(
                ErrorKind::IoError,
                format!("cannot listen on {listen}: {e}"),
            )
        })?;
        let console =
            crate::console::Listener::bind(&console_config, statements.clone(), engine.clone())
                .await?;
        Ok(Self {
            listener,
            console,
            shared: Shared {
                statements,
                engine,
                connections: Arc::new(ConnectionManager::new()),
                pids: Arc::new(RandomPidSecretKeyGenerator::default()),
                active_statements: Arc::new(AtomicUsize::new(0)),
                auth,
            },
            grace,
            max_connections,
            max_message_bytes,
            tls,
            idle_timeout,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// The web console's address, when it runs.
    pub fn console_addr(&self) -> Option<SocketAddr> {
        self.console.as_ref().map(|c| c.local_addr())
    }

    /// Serves until `shutdown` completes, then stops accepting, lets running statements finish
    /// (up to the grace period) and closes the remaining connections. Delta commits are atomic, so
    /// a statement cut off after the grace period leaves no half-written version behind.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        tracing::info!(listen = %self.local_addr(), data_dir = %self.shared.engine.catalog().warehouse(), "deltagres is ready");
        let (console_stop, console_stopped) = tokio::sync::oneshot::channel::<()>();
        let console = self.console.take().map(|console| {
            tokio::spawn(console.serve(async move {
                let _ = console_stopped.await;
            }))
        });
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (socket, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            continue;
                        }
                    };
                    tracing::debug!(%peer, "connection accepted");
                    if connections.len() >= self.max_connections {
                        tracing::warn!(%peer, max_connections = self.max_connections, "connection refused: too many connections");
                        tokio::spawn(refuse::too_many_connections(socket));
                        continue;
                    }
                    let handlers = Arc::new(ConnectionHandlers::new(&self.shared));
                    let tls = self.tls.clone();
                    let activity = handlers.activity();
                    let idle_timeout = self.idle_timeout;
                    let max_message_bytes = self.max_message_bytes;
                    connections.spawn(async move {
                        tokio::select! {
                            result = frames::serve(socket, tls, handlers, max_message_bytes) => {
                                if let Err(e) = result {
                                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                                }
                            }
                            _ = idle::expired(activity, idle_timeout) => {
                                tracing::info!(%peer, "closing a connection idle for longer than server.idle_session_timeout_secs");
                            }
                        }
                        tracing::debug!(%peer, "connection closed");
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                _ = &mut shutdown => break,
            }
        }
        drop(self.listener);
        let deadline = tokio::time::Instant::now() + self.grace;
        while self.shared.active_statements.load(Ordering::SeqCst) > 0
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let still_running = self.shared.active_statements.load(Ordering::SeqCst);
        if still_running > 0 {
            tracing::warn!(
                still_running,
                "grace period over; closing connections with statements still running"
            );
        }
        connections.shutdown().await;
        let _ = console_stop.send(());
        if let Some(console) = console {
            let _ = console.await;
        }
        tracing::info!("deltagres stopped");
        Ok(())
    }
}

/// `trust` lets anyone who reaches the port in: only on loopback, unless the config insists.
fn refuse_open_trust(config: &Config) -> Result<()> {
    refuse_open_trust_on(config, &config.server.listen, "log in")?;
    if !config.http.listen.trim().is_empty() {
        refuse_open_trust_on(
            config,
            config.http.listen.trim(),
            "read every statement's SQL",
        )?;
    }
    Ok(())
}

/// `listen` (the wire's or the console's) must be loopback under `trust`, unless forced.
fn refuse_open_trust_on(config: &Config, listen: &str, could: &str) -> Result<()> {
    use crate::config::AuthMethod;
    if config.auth.method != AuthMethod::Trust || config.auth.allow_trust_on_network {
        return Ok(());
    }
    let host = listen
        .rsplit_once(':')
        .map(|(h, _)| h.trim_matches(['[', ']']))
        .unwrap_or(listen);
    let loopback = host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidParameterValue,
            format!(
                "refusing to listen on {listen} with auth.method = \"trust\": anyone who reaches the port could {could}"
            ),
        )
        .with_hint("set auth.method = \"scram-sha-256\" with users from `deltagres passwd NAME`, or auth.allow_trust_on_network = true"))
    }
}

/// Completes on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutdown requested");
}
