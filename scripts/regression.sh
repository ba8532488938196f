#!/usr/bin/env bash
# Regression suite: deterministic simulated scenarios, each compared with its committed
# baseline in reports/baselines/ (same seed → same report, so any change is the code's).
#
#   bash scripts/regression.sh            # compare; exit 3 on a regression, 1 on an error
#   bash scripts/regression.sh --refresh  # after an intended change: rewrite the baselines
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/keyrotor_bin.sh
bin=$keyrotor
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for name in rated-load-5-keys failover key-revoked shared-org-5-keys keys-run-out; do
  # A scenario's own thresholds may fail (exit 3): that is a finding, not a regression.
  "$bin" run "scenarios/$name.toml" --out "$out/$name" > /dev/null || [ $? -eq 3 ]
  if [ "${1:-}" = "--refresh" ]; then
    cp "$out/$name/report.json" "reports/baselines/$name.json"
    echo "refreshed reports/baselines/$name.json"
    continue
  fi
  echo "== $name"
  "$bin" compare "reports/baselines/$name.json" "$out/$name/report.json" \
    --threshold "success_rate -0.1%" --threshold "throughput_rps -2%" \
    --threshold "latency_p99_ms +5%" --threshold "failover_p99_ms +10%" || status=$?
done
exit $status
