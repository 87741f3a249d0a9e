//! Thin wrappers over delta-rs operations, in the shape the planner needs them. Nothing here knows
//! about the wire or the session.

mod schema;
mod write;

pub use schema::to_delta_arrow_schema;
pub use write::{CreateOptions, create_empty, write_plan};
