#!/usr/bin/env bash
# `npm run bench`: Latchkey's token endpoint against oidc-provider under the same load, plus Latchkey's
# cold start and idle memory, judged against the targets (bench/README.md). Flags go to bench/run.ts:
#   npm run bench -- --duration 10 --connections 10 --rounds 2 --cold-runs 5
# The broker runs with the OS keychain, a real Secret Service in a private D-Bus session, as in the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
  bash scripts/bootstrap.sh
else
  bash scripts/bootstrap.sh --test
fi

# The bench starts the built CLI (bin/latchkey.js runs the bundle in dist/bundle): build when it is
# missing or older than the sources, so the figures are never those of stale code.
if [ ! -f dist/bundle/latchkey.js ] || [ -n "$(find main/core main/cli shared rolldown.config.js -newer dist/bundle/latchkey.js \( -name '*.ts' -o -name '*.js' \) -print -quit)" ]; then
  echo "bench: building"
  npm run build --silent
fi
npx tsc -p bench/tsconfig.json

# Run in the background and wait, so a TERM to this script reaches the bench, which stops its own children.
dbus-run-session -- bash scripts/with-keyring.sh node dist/bench/run.js "$@" &
bench=$!
trap 'kill -TERM "$bench" 2>/dev/null || true; wait "$bench" 2>/dev/null || true' INT TERM
set +e
wait "$bench"
status=$?
set -e
exit "$status"
