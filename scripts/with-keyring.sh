#!/usr/bin/env bash
# Runs a command with a real Secret Service: meant to be started under `dbus-run-session`. The keyring
# lives in a throwaway XDG_DATA_HOME, so tests never touch a developer's own login keyring.
set -euo pipefail
export XDG_DATA_HOME="$(mktemp -d -t latchkey-keyring-XXXXXX)"
trap 'rm -rf "$XDG_DATA_HOME"' EXIT
# The login keyring is created with this password on first unlock; it guards only test data.
eval "$(printf 'test-keyring' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
"$@"
