//! Copies of a table snapshot with another protocol, for handing to delta-rs where its own
//! protocol check would refuse a feature that we handle ourselves (a reader feature a reader
//! has nothing to do for, see [`super::read_features`]; identity columns, see
//! [`super::identity`]). delta-rs gives no constructor for a snapshot with another protocol; its
//! serde form (the one it pickles tables with) carries it, so a copy goes through that form.

use serde_json::{Map, Value};

/// Applies `edit` to the protocol in `snapshot`, the serde form of a delta-rs `Snapshot`: its
/// third element, and the protocol its materialized file list names as its owner (a list
/// whose owner differs is not the snapshot's own, and a copy without it cannot be used).
pub(super) fn edit_protocol(
    snapshot: &mut Value,
    mut edit: impl FnMut(&mut Map<String, Value>),
) -> Result<(), &'static str> {
    let protocol = snapshot
        .get_mut(2)
        .and_then(Value::as_object_mut)
        .ok_or("a snapshot's serde form has no protocol")?;
    edit(protocol);
    if let Some(owner) = snapshot
        .get_mut(9)
        .and_then(|files| files.get_mut("identity"))
        .and_then(|identity| identity.get_mut("protocol"))
        .and_then(Value::as_object_mut)
    {
        edit(owner);
    }
    Ok(())
}
