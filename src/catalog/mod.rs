//! The catalog: which schemas and tables exist, and where their Delta tables live.
//!
//! The data directory is the source of truth: `data_dir/<schema>/<table>/_delta_log` is a managed
//! table, every folder directly under `data_dir` is a schema, and `data_dir/_catalog.json` lists the
//! external tables (`CREATE TABLE ... LOCATION`) and the views. The in-memory registry is rebuilt from disk at
//! start, so a crash can never leave the catalog and the data disagreeing.

mod catalog_file;
mod catalog_shapes;
mod descriptions;
mod expand_array;
mod files;
mod format_type_udf;
mod formatting;
mod identity;
mod information_schema;
mod object_names;
mod pg;
mod pg_attrdef;
mod pg_format;
mod pg_settings;
mod pg_tables;
mod pg_typeof;
mod provider;
mod registry;
mod relation_sizes;
mod skew;
mod temp;
mod temp_rows;
mod unreadable;
mod views;
mod warehouse;

pub use files::{AllowedPaths, CheckedLocation, ReadParquet};
pub use formatting::install_formatting_functions;
pub use identity::identify_session;
pub use information_schema::install_information_schema;
pub use object_names::OBJECT_NAME_FUNCTION;
pub use pg::{
    field_type_modifier, field_wire_type, format_type, format_type_name, install_pg_catalog,
    sent_as_json, type_modifier, type_name as pg_type_name, wire_type,
};
pub use pg_settings::SessionSettings;
pub use provider::DeltaCatalogProvider;
pub use registry::{DeltaCatalog, TableRef, WriteTurn};
pub(crate) use registry::{dir_url, validate_table_name};
pub use skew::SkewReport;
pub use temp::{TEMP_SCHEMA, TempTables, attach_session_catalog};
pub use views::{ViewColumn, ViewDef};
pub use warehouse::Warehouse;

/// The DataFusion catalog name every table lives in; it is also what `current_database()` returns.
pub const CATALOG_NAME: &str = "deltagres";
/// The schema unqualified names resolve to when `search_path` names nothing else.
pub const DEFAULT_SCHEMA: &str = "public";
