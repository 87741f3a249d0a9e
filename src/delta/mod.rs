//! Thin wrappers over delta-rs operations, in the shape the planner needs them. Nothing here knows
//! about the wire or the session.

mod replay;
mod schema;
mod write;
mod zorder;

pub use replay::replay_plan;
pub use schema::to_delta_arrow_schema;
pub use write::{CreateOptions, create_empty, write_plan};
pub use zorder::{MAX_ZORDER_COLUMNS, ZORDER_KEY_FUNCTION, ZOrderKey};
