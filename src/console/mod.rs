//! The web console and `/metrics`: an HTTP listener in the server process (axum on our tokio
//! runtime) that shows the statements running now and those that ran recently (with their
//! executed plans), cancels a running one, shows tables (files, sizes, history) and pipeline
//! runs, and exports Prometheus metrics. Pages are rendered here as plain HTML with an
//! embedded stylesheet and script: no CDN, works offline.
//!
//! Reads the statement registry (`activity`) and the engine's figures; no route changes data
//! (cancel stops a statement as `pg_cancel_backend` does, nothing more).
//!
//! Security: loopback by default (`http.listen`); when `[auth]` asks for passwords the console
//! asks the same users for them (HTTP Basic), and a user sees other users' SQL text only when
//! listed in `http.admins`. With `[tls]` set the console speaks HTTPS only, with the wire's
//! certificate (tls.rs).

mod auth;
mod metrics;
mod pages;
mod pipelines;
mod plan_view;
mod tables;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::activity::Activity;
use crate::config::{Config, DEFAULT_HTTP_LISTEN};
use crate::engine::Engine;
use crate::error::{Error, ErrorKind, Result};

/// What the pages read.
#[derive(Clone)]
struct Console {
    activity: Arc<Activity>,
    engine: Arc<Engine>,
    auth: Arc<auth::Gate>,
}

/// A bound console, not yet serving.
pub struct Listener {
    listener: TcpListener,
    router: Router,
    /// HTTPS with the wire's certificate when `[tls]` is set.
    tls: Option<pgwire::tokio::TlsAcceptor>,
}

impl Listener {
    /// Binds `http.listen`. None when it is `""`, or when the default address is taken (then
    /// the server runs without a console and logs why); an address the user chose must be free.
    pub async fn bind(
        config: &Config,
        activity: Arc<Activity>,
        engine: Arc<Engine>,
    ) -> Result<Option<Self>> {
        let listen = config.http.listen.trim();
        if listen.is_empty() {
            return Ok(None);
        }
        let listener = match TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) if listen == DEFAULT_HTTP_LISTEN => {
                tracing::warn!(listen, error = %e, "web console not started: its default address is taken; set http.listen (or \"\" to turn it off)");
                return Ok(None);
            }
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::IoError,
                    format!("cannot listen on {listen} (http.listen): {e}"),
                ));
            }
        };
        let console = Console {
            activity,
            engine,
            auth: Arc::new(auth::Gate::from_config(config)?),
        };
        Ok(Some(Self {
            listener,
            router: router(console),
            tls: crate::server::tls_acceptor(&config.tls)?,
        }))
    }

    /// The address bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    /// Serves until `shutdown` completes.
    pub async fn serve(self, shutdown: impl Future<Output = ()> + Send + 'static) {
        let listen = self.local_addr();
        let served = match self.tls {
            Some(acceptor) => {
                tracing::info!(%listen, "web console is ready (https)");
                match tls::TlsListener::new(self.listener, acceptor) {
                    Ok(listener) => {
                        axum::serve(listener, self.router)
                            .with_graceful_shutdown(shutdown)
                            .await
                    }
                    Err(e) => Err(e),
                }
            }
            None => {
                tracing::info!(%listen, "web console is ready");
                axum::serve(self.listener, self.router)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
        };
        if let Err(e) = served {
            tracing::warn!(error = %e, "web console stopped");
        }
    }
}

fn router(console: Console) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/queries") }))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics_page))
        .route("/queries", get(queries_page))
        .route("/queries/{id}", get(query_page))
        .route("/queries/{id}/cancel", post(cancel_query))
        .route("/tables", get(tables_page))
        .route("/tables/{schema}/{table}", get(table_page))
        .route("/pipelines", get(pipelines_page))
        .route("/pipelines/{run}", get(run_page))
        .route("/static/console.css", get(stylesheet))
        .route("/static/console.js", get(script))
        .layer(axum::middleware::from_fn_with_state(
            console.clone(),
            auth::require_login,
        ))
        .with_state(console)
}

/// A 404 page for `what`.
fn not_found(what: String) -> Response {
    (StatusCode::NOT_FOUND, Html(pages::not_found(&what))).into_response()
}

async fn metrics_page(State(console): State<Console>) -> Response {
    match metrics::encode_metrics(&console.activity, &console.engine) {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
    }
}

async fn queries_page(
    State(console): State<Console>,
    axum::Extension(viewer): axum::Extension<auth::Viewer>,
) -> Html<String> {
    Html(pages::queries(&console.activity.snapshot(), &viewer))
}

async fn query_page(
    State(console): State<Console>,
    axum::Extension(viewer): axum::Extension<auth::Viewer>,
    Path(id): Path<u64>,
) -> Response {
    match console.activity.get(id) {
        Some(record) => Html(pages::query(&record, &viewer)).into_response(),
        None => not_found(format!("statement {id}")),
    }
}

async fn tables_page(State(console): State<Console>) -> Html<String> {
    Html(tables::list(&console.engine).await)
}

async fn table_page(
    State(console): State<Console>,
    Path((schema, table)): Path<(String, String)>,
) -> Response {
    match tables::page(&console.engine, &schema, &table).await {
        Some(page) => Html(page).into_response(),
        None => not_found(format!("table {schema}.{table}")),
    }
}

async fn pipelines_page(State(console): State<Console>) -> Html<String> {
    Html(pipelines::list(&console.engine).await)
}

async fn run_page(State(console): State<Console>, Path(run): Path<String>) -> Response {
    match pipelines::run(&console.engine, &run).await {
        Some(page) => Html(page).into_response(),
        None => not_found(format!("pipeline run {run}")),
    }
}

/// Cancels a running statement (as pg_cancel_backend), then shows it.
async fn cancel_query(
    State(console): State<Console>,
    axum::Extension(viewer): axum::Extension<auth::Viewer>,
    Path(id): Path<u64>,
) -> Response {
    let Some(record) = console.activity.get(id) else {
        return not_found(format!("statement {id}"));
    };
    if !viewer.may_see(&record.connection.user) {
        return (
            StatusCode::FORBIDDEN,
            "only its own user or an admin may cancel a statement\n",
        )
            .into_response();
    }
    console.activity.cancel(id).await;
    Redirect::to(&format!("/queries/{id}")).into_response()
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/console.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/console.js"),
    )
}
