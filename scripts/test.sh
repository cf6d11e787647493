#!/usr/bin/env bash
# `npm test`: everything, from a fresh clone. Installs what the tests need, builds, type-checks, lints,
# then runs every test (unit, integration, e2e) with a real Secret Service in a private D-Bus session.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --test
npm run build --silent
npm run typecheck --silent
npm run lint --silent
exec dbus-run-session -- bash scripts/with-keyring.sh npx vitest run "$@"
