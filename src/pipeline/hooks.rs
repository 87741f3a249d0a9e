//! on_success / on_failure hooks: a shell command with the run's JSON on stdin, or an HTTP POST
//! of the JSON (the alert the seed sends to Slack or e-mail). A failing hook is reported, and
//! never changes the run's outcome.

use std::process::Stdio;

use tokio::io::AsyncWriteExt;

use super::file::Hook;

/// Runs `hook` with `json`; returns a line describing a failure, if any.
pub async fn fire(hook: &Hook, json: &str) -> Option<String> {
    if let Some(command) = &hook.command {
        let child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .stdin(Stdio::piped())
            .spawn();
        let mut child = match child {
            Ok(c) => c,
            Err(e) => return Some(format!("hook `{command}` did not start: {e}")),
        };
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(json.as_bytes()).await;
        }
        return match child.wait().await {
            Ok(status) if status.success() => None,
            Ok(status) => Some(format!("hook `{command}` exited with {status}")),
            Err(e) => Some(format!("hook `{command}` failed: {e}")),
        };
    }
    if let Some(url) = &hook.url {
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(json.to_string())
            .send()
            .await;
        return match response {
            Ok(r) if r.status().is_success() => None,
            Ok(r) => Some(format!("hook POST {url} answered {}", r.status())),
            Err(e) => Some(format!("hook POST {url} failed: {e}")),
        };
    }
    None
}
