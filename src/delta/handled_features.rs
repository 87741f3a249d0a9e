//! The writer features deltagres writes itself where delta-rs 1.1.3 refuses any table that lists
//! them: identity columns (the values and high-water marks, [`super::identity`]) and column
//! defaults (the values of the columns a write leaves out, made by the statement's plan,
//! [`super::column_defaults`]). delta-rs writes everything else about such a table, given a
//! copy of its snapshot whose protocol leaves these features out ([`operable`]); the state kept
//! afterwards is always the table's own, brought up to date from the log. A new table that needs
//! one of them is created with a protocol that lists it ([`creation_protocol`]), and an existing
//! table gains one with [`protocol_with`].

use deltalake::DeltaTable;
use deltalake::kernel::{EagerSnapshot, Protocol};
use deltalake::table::state::DeltaTableState;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// The features of the module header, by their protocol names.
const HANDLED: [&str; 2] = [super::identity::FEATURE, super::column_defaults::FEATURE];

/// The writer features a legacy writer version implies (Delta's protocol, "Table Features"):
/// listed when such a protocol becomes a table-features one.
const LEGACY_WRITER_FEATURES: [(i32, &str); 7] = [
    (2, "appendOnly"),
    (2, "invariants"),
    (3, "checkConstraints"),
    (4, "changeDataFeed"),
    (4, "generatedColumns"),
    (5, "columnMapping"),
    (6, "identityColumns"),
];

/// Whether `protocol` lists one of the features of the module header (the identity feature
/// also as the legacy writer version 6 that implies it).
pub fn lists_handled_feature(protocol: &Protocol) -> bool {
    super::identity::lists_identity_feature(protocol)
        || lists_feature(protocol, super::column_defaults::FEATURE)
}

/// Whether `protocol` lists the writer feature `name` (a table-features protocol).
pub(super) fn lists_feature(protocol: &Protocol, name: &str) -> bool {
    protocol
        .writer_features()
        .is_some_and(|features| features.iter().any(|f| f.as_ref() == name))
}

/// The table delta-rs's write builders are given for `table`: `table` itself, or, when its
/// protocol lists a feature of the module header, the same table at the same version whose
/// protocol leaves those out. Only for handing to a write builder: the state kept afterwards is
/// the table's own, brought up to date from the log, never this one.
pub fn operable(table: &DeltaTable) -> Result<DeltaTable> {
    let state = table.snapshot()?;
    if !lists_handled_feature(state.protocol()) {
        return Ok(table.clone());
    }
    let mut copy = table.clone();
    copy.state = Some(DeltaTableState::new(without_handled_features(
        state.snapshot(),
    )?));
    Ok(copy)
}

/// The snapshot `snapshot` with the features of the module header out of its protocol (see
/// [`super::protocol_copy`]; an EagerSnapshot's serde form is its Snapshot's, in a list).
pub(super) fn without_handled_features(snapshot: &EagerSnapshot) -> Result<EagerSnapshot> {
    let mut form = serde_json::to_value(snapshot).map_err(copy_error)?;
    let inner = form
        .get_mut(0)
        .ok_or_else(|| Error::internal("a snapshot's serde form is empty"))?;
    super::protocol_copy::edit_protocol(inner, leave_out_handled_features)
        .map_err(Error::internal)?;
    serde_json::from_value(form).map_err(copy_error)
}

fn leave_out_handled_features(protocol: &mut Map<String, Value>) {
    if let Some(Value::Array(features)) = protocol.get_mut("writerFeatures") {
        features.retain(|f| !f.as_str().is_some_and(|f| HANDLED.contains(&f)));
    }
    // Legacy writer version 6 implies identity columns; 5 is the same without them.
    if protocol.get("minWriterVersion").and_then(Value::as_i64) == Some(6) {
        protocol.insert("minWriterVersion".into(), Value::from(5));
    }
}

fn copy_error(e: serde_json::Error) -> Error {
    Error::internal(format!("copying a table snapshot for writing: {e}"))
}

/// The protocol a new table whose schema needs `features` (of the module header) is created
/// with, `None` when it needs none (delta-rs's create adds what its other properties need to
/// it).
pub(super) fn creation_protocol(features: &[&str]) -> Result<Option<Protocol>> {
    if features.is_empty() {
        return Ok(None);
    }
    protocol_from(json!({
        "minReaderVersion": 1,
        "minWriterVersion": 7,
        "writerFeatures": features,
    }))
    .map(Some)
}

/// `protocol` with the writer feature `name` added, `None` when it lists it already. A legacy
/// protocol becomes a table-features one (writer version 7) that lists the features its writer
/// version implied; the reader side is left as it is.
pub(super) fn protocol_with(protocol: &Protocol, name: &str) -> Result<Option<Protocol>> {
    if lists_feature(protocol, name) {
        return Ok(None);
    }
    let mut form = serde_json::to_value(protocol)
        .map_err(|e| Error::internal(format!("a table's protocol: {e}")))?;
    let writer = protocol.min_writer_version();
    if writer < 7 {
        let implied: Vec<&str> = LEGACY_WRITER_FEATURES
            .iter()
            .filter(|(version, _)| *version <= writer)
            .map(|(_, feature)| *feature)
            .collect();
        form["minWriterVersion"] = json!(7);
        form["writerFeatures"] = json!(implied);
    }
    if let Some(Value::Array(features)) = form.get_mut("writerFeatures") {
        features.push(json!(name));
    }
    protocol_from(form).map(Some)
}

fn protocol_from(form: Value) -> Result<Protocol> {
    serde_json::from_value(form).map_err(|e| Error::internal(format!("a table's protocol: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn protocol(form: Value) -> Protocol {
        serde_json::from_value(form).unwrap()
    }

    #[test]
    fn a_legacy_protocol_gains_a_feature_with_the_features_its_version_implied() {
        let legacy = protocol(json!({"minReaderVersion": 1, "minWriterVersion": 4}));
        let upgraded = protocol_with(&legacy, "allowColumnDefaults")
            .unwrap()
            .unwrap();
        let form = serde_json::to_value(&upgraded).unwrap();
        assert_eq!(form["minWriterVersion"], json!(7));
        assert_eq!(
            form["writerFeatures"],
            json!([
                "appendOnly",
                "invariants",
                "checkConstraints",
                "changeDataFeed",
                "generatedColumns",
                "allowColumnDefaults"
            ])
        );
        assert!(lists_handled_feature(&upgraded));
        assert!(
            protocol_with(&upgraded, "allowColumnDefaults")
                .unwrap()
                .is_none()
        );
        assert!(!lists_handled_feature(&legacy));
    }
}
