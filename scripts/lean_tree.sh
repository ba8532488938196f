#!/usr/bin/env bash
# Fails when CRATE's normal dependency tree (no dev- or build-dependencies) holds any of the
# crates named after it, or turns on tokio's test clock; else says how many crates it holds.
# Used by engine_crate.sh and proxy_crate.sh: `scripts/lean_tree.sh CRATE FORBIDDEN...`.
set -euo pipefail
cd "$(dirname "$0")/.."
crate=$1
shift
tree=$(cargo tree --locked -p "$crate" -e normal --prefix none -f '{p} {f}')
for forbidden in "$@"; do
  if grep -q "^$forbidden v" <<<"$tree"; then
    echo "error: $crate depends on $forbidden" >&2
    exit 1
  fi
done
if grep -E '^tokio v' <<<"$tree" | grep -q test-util; then
  echo "error: $crate turns on tokio's test-util" >&2
  exit 1
fi
echo "$crate: $(sort -u <<<"$tree" | wc -l) crates, none of: $*"
