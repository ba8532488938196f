#!/usr/bin/env bash
# README's test command. Installs what the tests call besides cargo — the groq and openai
# Python SDKs (PyPI), Node and npm (Debian's packages, when missing), the groq Node SDK (npm,
# into keyrotor-proxy/tests/sdk/node_modules), what the seed apps need (groq-sdk and tsx, into
# examples/seed-apps/node_modules), redis-server (Debian's package: the shared-state tests
# start their own on loopback) and chromium (Debian's package: the HTML pages are loaded in
# it, headless) — then runs every test of the workspace.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -p keyrotor-proxy --test proxy`).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v python3 >/dev/null 2>&1; then
  echo "installing python3 and pip (Debian packages)"
  as_root apt-get update -qq && as_root apt-get install -y -qq python3 python3-pip
fi
python3 -m pip install --quiet --disable-pip-version-check -r mock-groq/tests/sdk/requirements.txt

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing nodejs and npm (Debian packages)"
  as_root apt-get update -qq && as_root apt-get install -y -qq nodejs npm
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing redis-server (Debian package; the shared-state tests start it on loopback)"
  as_root apt-get update -qq && as_root apt-get install -y -qq redis-server
fi
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (Debian package; tests/documents.rs loads every HTML page in it, headless)"
  as_root apt-get update -qq && as_root apt-get install -y -qq chromium
fi
npm ci --prefix keyrotor-proxy/tests/sdk --no-audit --no-fund --loglevel=error
npm ci --prefix examples/seed-apps --no-audit --no-fund --loglevel=error

echo "tools ready after $((SECONDS / 60)) min $((SECONDS % 60)) s; now cargo test"
cargo test --workspace --locked "$@"
