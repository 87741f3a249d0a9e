//! Who looks at the console: with `[auth]` on, the wire's users log in with HTTP Basic (checked
//! against the same SCRAM verifiers); with `trust`, anyone who reaches the loopback address is
//! let in as an admin, as the wire lets them in. `/healthz` is always open.

use std::collections::{HashMap, HashSet};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;

use crate::auth::ScramVerifier;
use crate::config::{AuthMethod, Config};
use crate::error::{Error, ErrorKind, Result};

/// The console's users, parsed once at start.
pub struct Gate {
    /// None with `trust`.
    users: Option<HashMap<String, ScramVerifier>>,
    admins: HashSet<String>,
}

/// The logged-in user of one request.
#[derive(Clone, Debug)]
pub struct Viewer {
    /// The user name, None with `trust`.
    pub user: Option<String>,
    /// Sees everyone's SQL.
    pub admin: bool,
}

impl Viewer {
    /// Whether this viewer may see the SQL of (and cancel) a statement of `user`.
    pub fn may_see(&self, user: &str) -> bool {
        self.admin || self.user.as_deref() == Some(user)
    }
}

impl Gate {
    /// Reads `[auth]` and `http.admins`.
    pub fn from_config(config: &Config) -> Result<Self> {
        let users = match config.auth.method {
            AuthMethod::Trust => None,
            _ => {
                let mut users = HashMap::new();
                for user in &config.auth.users {
                    let verifier = ScramVerifier::parse(&user.verifier).map_err(|e| {
                        Error::new(
                            ErrorKind::InvalidParameterValue,
                            format!("auth.users entry {}: {e}", user.name),
                        )
                    })?;
                    users.insert(user.name.clone(), verifier);
                }
                Some(users)
            }
        };
        Ok(Self {
            users,
            admins: config.http.admins.iter().cloned().collect(),
        })
    }

    fn viewer(&self, headers: &HeaderMap) -> Option<Viewer> {
        let Some(users) = &self.users else {
            return Some(Viewer {
                user: None,
                admin: true,
            });
        };
        let encoded = headers
            .get(header::AUTHORIZATION)?
            .to_str()
            .ok()?
            .strip_prefix("Basic ")?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let (user, password) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
        users
            .get(user)
            .filter(|v| v.check_password(password))
            .map(|_| Viewer {
                user: Some(user.to_string()),
                admin: self.admins.contains(user),
            })
    }
}

/// Lets a request through with its [`Viewer`], or answers 401 asking for a login.
pub async fn require_login(
    State(console): State<super::Console>,
    mut request: Request,
    next: Next,
) -> Response {
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    match console.auth.viewer(request.headers()) {
        Some(viewer) => {
            request.extensions_mut().insert(viewer);
            next.run(request).await
        }
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"deltagres\"")],
            "log in with a deltagres user and password\n",
        )
            .into_response(),
    }
}
