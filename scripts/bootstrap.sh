#!/usr/bin/env bash
# Installs what Latchkey needs on a fresh Debian machine, and nothing twice.
#   bootstrap.sh           npm packages (enough to run the broker)
#   bootstrap.sh --test    also the Debian packages the tests use: a Secret Service (gnome-keyring in a
#                          private D-Bus session) and Chromium for the UI tests
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--test" ]; then
  missing=()
  command -v dbus-run-session >/dev/null 2>&1 || missing+=(dbus)
  command -v gnome-keyring-daemon >/dev/null 2>&1 || missing+=(gnome-keyring)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null 2>&1; then
      sudo=""
      [ "$(id -u)" -eq 0 ] || sudo="sudo"
      echo "bootstrap: installing Debian packages: ${missing[*]}"
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" dbus-x11 >/dev/null
    else
      echo "bootstrap: please install ${missing[*]} (no apt-get on this machine)" >&2
      exit 1
    fi
  fi
fi

# npm ci when node_modules is missing or older than the lock file. Electron's postinstall downloads its
# binary from GitHub, which a CI machine reaching only the npm registry cannot do: the packages install
# without it, then the binary is tried on its own, best effort. Without it `npm start` runs the headless
# broker and the Electron smoke test is skipped, each saying why.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: installing npm packages"
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
  if [ -f node_modules/electron/install.js ] && ! timeout 300 node node_modules/electron/install.js >/dev/null 2>&1; then
    echo "bootstrap: the Electron binary could not be downloaded (no internet?): the desktop app is unavailable, \`npm start\` runs the headless broker; retry with \`npx install-electron\`"
  fi
fi
