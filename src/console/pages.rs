//! The console's pages as HTML text: the list of running and recent statements, and one
//! statement with its plan. Every value from a user (SQL, names, messages) is escaped.

use std::fmt::Write;
use std::time::{Duration, SystemTime};

use crate::activity::{State, StatementRecord};

use super::auth::Viewer;

/// Characters of SQL shown in the list (the statement's page has all of it).
const LIST_SQL_CHARS: usize = 160;

/// Text made safe inside HTML elements and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole page: the header with the navigation, then `body`.
pub fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} · deltagres</title>\
         <link rel=\"stylesheet\" href=\"/static/console.css\">\
         <script src=\"/static/console.js\" defer></script></head>\
         <body><header><a class=\"brand\" href=\"/queries\">deltagres</a>\
         <nav><a href=\"/queries\">Queries</a><a href=\"/tables\">Tables</a>\
         <a href=\"/pipelines\">Pipelines</a><a href=\"/metrics\">Metrics</a></nav></header>\
         <main>{body}</main></body></html>\n",
        escape(title)
    )
}

fn sql_for<'a>(record: &'a StatementRecord, viewer: &Viewer) -> Option<&'a str> {
    viewer
        .may_see(&record.connection.user)
        .then_some(record.sql.as_str())
}

fn started(at: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(at)
        .format("%Y-%m-%d %H:%M:%S%.3f UTC")
        .to_string()
}

fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn state_cell(state: &State) -> String {
    match state {
        State::Failed { sqlstate, .. } => format!(
            "<span class=\"state failed\">failed</span> <code>{}</code>",
            escape(sqlstate)
        ),
        other => format!("<span class=\"state {0}\">{0}</span>", other.label()),
    }
}

fn cancel_button(record: &StatementRecord, viewer: &Viewer) -> String {
    if record.state == State::Running && viewer.may_see(&record.connection.user) {
        format!(
            "<form method=\"post\" action=\"/queries/{}/cancel\" class=\"cancel\">\
             <button type=\"submit\">Cancel</button></form>",
            record.id
        )
    } else {
        String::new()
    }
}

/// The list of running statements, then recent ones, newest first.
pub fn queries(records: &[StatementRecord], viewer: &Viewer) -> String {
    let running = records.iter().filter(|r| r.state == State::Running).count();
    let mut body = format!(
        "<h1>Queries</h1><p class=\"summary\"><span id=\"running-count\">{running}</span> running, \
         {} recent. <label><input type=\"checkbox\" id=\"auto-refresh\" checked> refresh every 2 s</label></p>",
        records.len() - running
    );
    body.push_str(
        "<table class=\"queries\"><thead><tr><th>#</th><th>State</th><th>User</th>\
         <th>Application</th><th>Client</th><th>Started</th><th>Duration</th><th>Rows</th>\
         <th>SQL</th><th></th></tr></thead><tbody>",
    );
    for r in records {
        let sql = match sql_for(r, viewer) {
            Some(sql) => {
                let mut shown: String = sql.chars().take(LIST_SQL_CHARS).collect();
                if shown.len() < sql.len() {
                    shown.push('…');
                }
                format!("<code>{}</code>", escape(&shown))
            }
            None => "<em>(another user's statement)</em>".into(),
        };
        let _ = write!(
            body,
            "<tr class=\"{state}\" data-id=\"{id}\"><td><a href=\"/queries/{id}\">{id}</a></td>\
             <td>{state_cell}</td><td>{user}</td><td>{app}</td><td>{client}</td><td>{started}</td>\
             <td class=\"num\">{duration}</td><td class=\"num\">{rows}</td><td class=\"sql\">{sql}</td>\
             <td>{cancel}</td></tr>",
            state = r.state.label(),
            id = r.id,
            state_cell = state_cell(&r.state),
            user = escape(&r.connection.user),
            app = escape(&r.connection.application_name),
            client = escape(&r.connection.client_addr),
            started = started(r.started),
            duration = duration(r.duration),
            rows = r.rows,
            cancel = cancel_button(r, viewer),
        );
    }
    body.push_str("</tbody></table>");
    layout("Queries", &body)
}

/// One statement: who ran it, how it went, its SQL and (for queries) its plan.
pub fn query(record: &StatementRecord, viewer: &Viewer) -> String {
    let mut body = format!(
        "<h1>Statement {id}</h1>{cancel}<table class=\"facts\">\
         <tr><th>State</th><td id=\"state\">{state}</td></tr>\
         <tr><th>User</th><td>{user}</td></tr>\
         <tr><th>Application</th><td>{app}</td></tr>\
         <tr><th>Client</th><td>{client}</td></tr>\
         <tr><th>Backend pid</th><td>{pid}</td></tr>\
         <tr><th>Started</th><td>{started}</td></tr>\
         <tr><th>Duration</th><td>{duration}</td></tr>\
         <tr><th>Rows</th><td>{rows}</td></tr></table>",
        id = record.id,
        cancel = cancel_button(record, viewer),
        state = state_cell(&record.state),
        user = escape(&record.connection.user),
        app = escape(&record.connection.application_name),
        client = escape(&record.connection.client_addr),
        pid = record.connection.pid,
        started = started(record.started),
        duration = duration(record.duration),
        rows = record.rows,
    );
    if let State::Failed { sqlstate, message } = &record.state {
        let _ = write!(
            body,
            "<h2>Error</h2><p class=\"error\"><code>{}</code> {}</p>",
            escape(sqlstate),
            escape(message)
        );
    }
    match sql_for(record, viewer) {
        Some(sql) => {
            let _ = write!(body, "<h2>SQL</h2><pre class=\"sql\">{}</pre>", escape(sql));
        }
        None => body.push_str("<h2>SQL</h2><p><em>(another user's statement)</em></p>"),
    }
    if !record.hints.is_empty() && viewer.may_see(&record.connection.user) {
        body.push_str("<h2>Hints</h2><ul class=\"hints\">");
        for hint in &record.hints {
            let (class, label) = if hint.applied {
                ("applied", "applied")
            } else {
                ("ignored", "not applied")
            };
            let _ = write!(
                body,
                "<li class=\"{class}\"><code>{}</code> <strong>{label}</strong>: {}</li>",
                escape(&hint.hint),
                escape(&hint.detail)
            );
        }
        body.push_str("</ul>");
    }
    if let Some(plan) = record
        .plan
        .as_deref()
        .filter(|_| viewer.may_see(&record.connection.user))
    {
        let tree = super::plan_view::plan_tree(plan)
            .unwrap_or_else(|| format!("<pre class=\"plan\">{}</pre>", escape(plan)));
        let _ = write!(
            body,
            "<h2>Plan <small>(actual rows per operator; bars: rows per partition)</small></h2>{tree}"
        );
    }
    layout(&format!("Statement {}", record.id), &body)
}

/// A 404 page.
pub fn not_found(what: &str) -> String {
    layout(
        "Not found",
        &format!(
            "<h1>Not found</h1><p>No {} here (finished statements are kept up to http.recent_statements).</p>",
            escape(what)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert('x') && "y"</script>"#),
            "&lt;script&gt;alert(&#39;x&#39;) &amp;&amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
