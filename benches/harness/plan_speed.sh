#!/usr/bin/env bash
# Planner speed, side by side: `keyrotor plan --users 1000 --queries 10 --duration 8h` with
# a baseline binary and the current one, alternating, 5 rounds each; prints each round and
# the medians, and the ratio of the two with the default confidence (20 seeds per count).
# The current one also runs the search alone (--seeds 0), shown beside it. A round in which
# the two builds recommend different keys stops the bench.
#
#   git worktree add /tmp/kr-base <commit> && (cd /tmp/kr-base && cargo build --release)
#   bash benches/harness/plan_speed.sh /tmp/kr-base/target/release/keyrotor
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:?usage: plan_speed.sh BASELINE_KEYROTOR_BINARY}
cargo build --release --quiet --bin keyrotor
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
event=(plan --users 1000 --queries 10 --duration 8h --model openai/gpt-oss-120b)
seconds() { /usr/bin/time -f %e "$@" > /dev/null 2> "$out/t" || { cat "$out/t"; exit 1; }; tail -1 "$out/t"; }
b=(); s=(); c=()
for round in 1 2 3 4 5; do
  b+=("$(seconds "$base" "${event[@]}" --out "$out/b$round")")
  s+=("$(seconds target/release/keyrotor "${event[@]}" --seeds 0 --out "$out/s$round")")
  c+=("$(seconds target/release/keyrotor "${event[@]}" --out "$out/c$round")")
  # Only the same answer counts: both builds must recommend the same keys for every policy.
  python3 - "$out/b$round/plan.json" "$out/c$round/plan.json" <<'PY'
import json, sys
def answer(path):
    p = json.load(open(path))
    return (p["recommended_keys"], p["simulated"]["min_keys"],
            [(s["policy"], s["min_keys"]) for s in p["by_policy"]],
            (p.get("confidence") or {}).get("recommended"))
b, c = (answer(p) for p in sys.argv[1:])
if b != c:
    sys.exit(f"the builds planned differently: {b} vs {c}")
PY
  echo "round $round: baseline ${b[-1]} s, search ${s[-1]} s, search + confidence ${c[-1]} s, same plan"
done
python3 - "${b[@]}" "${s[@]}" "${c[@]}" <<'PY'
import statistics, sys
v = [float(x) for x in sys.argv[1:]]
b, s, c = v[:5], v[5:10], v[10:]
mb, ms, mc = (statistics.median(x) for x in (b, s, c))
print(f"median: baseline {mb:.2f} s, current {mc:.2f} s with the confidence ({mb / mc:.2f}x; "
      f"target < 2 s), {ms:.2f} s for the search alone")
PY
