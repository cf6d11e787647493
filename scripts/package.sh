#!/usr/bin/env bash
# `npm run package`: the desktop app's installers (electron-builder.yml) into release/, for this OS by
# default; arguments go to electron-builder (e.g. `npm run package -- --linux AppImage deb`). Needs what the
# build machines here do not have: electron-builder downloads the Electron build of each target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
npm run build --silent
# electron-builder rebuilds the native modules in node_modules for Electron's ABI; the broker under Node
# (the CLI, the tests) needs Node's build again afterwards, whatever happened.
restore() {
  npm rebuild better-sqlite3 --silent >/dev/null 2>&1 || echo "package: run \`npm rebuild better-sqlite3\` before running Latchkey under Node again" >&2
}
trap restore EXIT
npx electron-builder --config electron-builder.yml "$@"
