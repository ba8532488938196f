#!/usr/bin/env bash
# Simulated cost per request, side by side: each scenario run with a baseline binary and the
# current one, alternating, 5 rounds each; prints each round's wall time per request offered
# and the medians with their ratio. Every request must be accounted for (offered =
# succeeded + failed + dropped) and the two builds must report the same summary, or the
# bench stops: a faster run that measures something else is no speed-up.
#
#   git worktree add /tmp/kr-base <commit> && (cd /tmp/kr-base && cargo build --release)
#   bash benches/harness/sim_speed.sh /tmp/kr-base/target/release/keyrotor
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: sim_speed.sh BASELINE_KEYROTOR_BINARY}
cargo build --release --quiet --bin keyrotor
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
seconds() { /usr/bin/time -f %e "$@" > /dev/null 2> "$out/t" || { cat "$out/t"; exit 1; }; tail -1 "$out/t"; }
for scenario in benches/harness/million.toml benches/harness/day-200k-40-keys.toml; do
  b=(); c=()
  for round in 1 2 3 4 5; do
    b+=("$(seconds "$base" run "$scenario" --out "$out/b$round")")
    c+=("$(seconds target/release/keyrotor run "$scenario" --out "$out/c$round")")
    offered=$(python3 - "$out/b$round/report.json" "$out/c$round/report.json" <<'PY'
import json, sys
b, c = (json.load(open(p))["summary"] for p in sys.argv[1:])
for s in (b, c):
    if s["offered"] != s["succeeded"] + s["failed"] + s["dropped"]:
        sys.exit(f"a request is unaccounted for: {s}")
keys = ("offered", "succeeded", "failed", "dropped", "goodput", "upstream_429")
if any(b[k] != c[k] for k in keys):
    sys.exit(f"the builds measured different runs: {[(k, b[k], c[k]) for k in keys if b[k] != c[k]]}")
print(c["offered"])
PY
)
    echo "$scenario round $round: baseline ${b[-1]} s, current ${c[-1]} s, $offered requests"
  done
  python3 - "$offered" "${b[@]}" "${c[@]}" <<'PY'
import statistics, sys
n = int(sys.argv[1]); v = [float(x) for x in sys.argv[2:]]
b, c = statistics.median(v[:5]), statistics.median(v[5:])
print(f"median: baseline {b * 1e6 / n:.2f} µs/request, current {c * 1e6 / n:.2f} µs/request, "
      f"{b / c:.2f}x (target <= 5 µs)")
PY
done
