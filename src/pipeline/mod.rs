//! The pipeline runner: a folder of SQL scripts as a DAG of tasks (`deltagres pipeline run`).
//!
//! `file` reads and checks the pipeline file, `runner` runs it (embedded engine or a server over
//! the wire), `history` records every run and attempt in `system.pipeline_runs`, `hooks` sends the
//! run's JSON to a command or a URL when it ends.

mod file;
mod history;
mod hooks;
mod runner;

pub use file::{Hook, Hooks, Pipeline, Task};
pub use runner::{Connector, Progress, RunOptions, RunReport, TaskReport, run};
