#!/usr/bin/env bash
# `npm start`, from a fresh clone: installs the npm packages, builds when dist/ is missing or older than
# the sources, then starts Latchkey (main/cli/start.ts): the desktop app where an Electron binary is
# installed, otherwise the headless broker, saying which. Arguments go to the broker:
#   npm start -- --port 0 --data-dir /tmp/latchkey
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
entry=dist/main/cli/start.js
if [ ! -f "$entry" ] || [ ! -f renderer/dist/index.html ] || [ -n "$(find main shared renderer/src renderer/index.html tsconfig.json tsconfig.build.json -newer "$entry" \( -name '*.ts' -o -name '*.tsx' -o -name '*.css' -o -name '*.html' -o -name '*.json' \) -print -quit)" ]; then
  echo "start: building"
  npm run build --silent
fi
exec node "$entry" "$@"
