#!/usr/bin/env bash
# Downloads DataFusion's sqllogictest files (the datafusion-sqllogictest crate of the engine's
# version, from crates.io) into the build cache, where tests/it/slt.rs and tests/it/tpch.rs look
# for them. They are not kept in this repository. Does nothing when they are already there.
set -euo pipefail
VERSION=55.2.0
NAME="datafusion-sqllogictest-$VERSION"
DIR="${CARGO_TARGET_DIR:-$HOME/.cache/deltagres-target}/slt"
if [ -f "$DIR/$NAME/test_files/tpch/answers/q1.slt.part" ]; then
  exit 0
fi
mkdir -p "$DIR"
TMP="$(mktemp -d "$DIR/fetch.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
curl -sSfL --retry 3 -o "$TMP/$NAME.crate" \
  "https://static.crates.io/crates/datafusion-sqllogictest/$NAME.crate"
tar -xzf "$TMP/$NAME.crate" -C "$TMP"
rm -rf "${DIR:?}/$NAME"
mv "$TMP/$NAME" "$DIR/$NAME"
echo "fetched $NAME into $DIR"
