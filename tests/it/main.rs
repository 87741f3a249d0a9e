//! The integration tests: one binary (DataFusion and delta-rs link once), one module per area.
//! Every test starts a real server on a free port over a temporary data directory and talks to it
//! the way users do: tokio-postgres, psql, Python/Node/Java client libraries and the Python
//! `deltalake` package.

mod support;

mod alter;
mod assignments;
mod auth;
mod bi;
mod catalog;
mod change_feed;
mod char_types;
mod cli;
mod clients;
mod clone;
mod column_defaults;
mod column_mapping;
mod comments;
mod concurrency;
mod console;
mod copy;
mod crash;
mod data_safety;
mod dbt;
mod describe;
mod errors;
mod fault_isolation;
mod formatting;
mod fuzz;
mod generated;
mod hints;
mod identity;
mod interop;
mod json;
mod lakehouse;
mod limits;
mod log_upkeep;
mod model_check;
mod object_store;
mod optimize;
mod pg_functions;
mod pg_semantics;
mod pipeline;
mod plan_cache;
mod psql;
mod query_shapes;
mod relation_sizes;
mod rename;
mod returning;
mod s3;
mod session;
mod slt;
mod temp_tables;
mod tpch;
mod type_resolution;
mod types;
mod uuids;
mod views;
mod wire;
