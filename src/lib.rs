//! deltagres: a PostgreSQL-wire SQL server on Apache DataFusion where every table is a Delta table.
//!
//! The layers, each calling only the one below it:
//!
//! ```text
//! server/   pgwire: startup, simple + extended query, Arrow -> pg rows      (knows the wire)
//! session   per-connection settings, transaction blocks, SET/SHOW/RESET     (knows no wire)
//! dialect/  SQL text -> our Statement enum (PostgreSQL + lakehouse syntax)
//! plan/     routing: queries/INSERT -> DataFusion, UPDATE/DELETE -> delta-rs, DDL -> catalog
//! catalog/  schemas and tables on disk, DataFusion catalog provider, pg_catalog
//! delta/    thin wrappers over delta-rs operations
//! ```
//!
//! `error` holds the one error type and its SQLSTATE mapping; `config` the layered configuration;
//! `engine` what all sessions share.

pub mod activity;
pub mod auth;
pub mod catalog;
pub mod client;
pub mod config;
pub mod console;
pub mod datagen;
pub mod delta;
pub mod dialect;
pub mod engine;
pub mod error;
pub mod output;
pub mod pipeline;
pub mod plan;
pub mod plancheck;
pub mod script;
pub mod semantics;
pub mod server;
pub mod session;
