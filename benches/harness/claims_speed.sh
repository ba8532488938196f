#!/usr/bin/env bash
# `keyrotor claims` (README's main job) side by side: a baseline binary and the current one,
# alternating, ROUNDS rounds each (default 3: a round is about two minutes); prints each
# round and the medians. A run that does not exit 0 (the claims failed to run, not a claim
# failing: the seeds' claims exit 0) stops the bench, and so do rows that differ between
# the builds (id, verdict, measured, figure, conditions): a faster check that answers
# otherwise is no speed-up.
#
#   git worktree add /tmp/kr-base <commit> && (cd /tmp/kr-base && cargo build --release)
#   bash benches/harness/claims_speed.sh /tmp/kr-base/target/release/keyrotor [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: claims_speed.sh BASELINE_KEYROTOR_BINARY [ROUNDS]}
rounds=${2:-3}
cargo build --release --quiet --bin keyrotor
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
seconds() { /usr/bin/time -f %e "$@" > /dev/null 2> "$out/t" || { cat "$out/t"; exit 1; }; tail -1 "$out/t"; }
b=(); c=()
for round in $(seq "$rounds"); do
  b+=("$(seconds "$base" claims --out "$out/b$round")")
  c+=("$(seconds target/release/keyrotor claims --out "$out/c$round")")
  python3 - "$out/b$round/claims.json" "$out/c$round/claims.json" <<'PY'
import json, sys
rows = [[{k: c.get(k) for k in ("id", "verdict", "measured", "figure", "conditions")}
         for c in json.load(open(p))["claims"]] for p in sys.argv[1:]]
if not rows[0] or rows[0] != rows[1]:
    sys.exit(f"the builds' rows differ (or none): {len(rows[0])} vs {len(rows[1])} rows")
PY
  echo "round $round: baseline ${b[-1]} s, current ${c[-1]} s, rows identical"
done
python3 - "$rounds" "${b[@]}" "${c[@]}" <<'PY'
import statistics, sys
n = int(sys.argv[1])
v = [float(x) for x in sys.argv[2:]]
mb, mc = statistics.median(v[:n]), statistics.median(v[n:])
print(f"median of {n}: baseline {mb:.2f} s, current {mc:.2f} s ({mb / mc:.2f}x)")
PY
