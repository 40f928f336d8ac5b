#!/usr/bin/env bash
# Runs a command against a private, throw-away Secret Service so that tests
# never read or write the developer's real keychain: its own D-Bus session,
# its own gnome-keyring-daemon, and a temporary HOME that is deleted after.
set -euo pipefail
if [ "${PIN_STATION_TEST_KEYRING:-}" = "1" ]; then
  exec "$@"   # already inside a private keyring
fi
for tool in dbus-run-session gnome-keyring-daemon; do
  command -v "$tool" >/dev/null || { echo "with-test-keyring: '$tool' is missing (apt-get install dbus gnome-keyring)" >&2; exit 3; }
done
tmp_home=$(mktemp -d -t pin-station-keyring.XXXXXX)
trap 'rm -rf "$tmp_home"' EXIT
export PIN_STATION_REAL_HOME="$HOME"
export HOME="$tmp_home" XDG_DATA_HOME="$tmp_home/.local/share" XDG_CONFIG_HOME="$tmp_home/.config" \
  XDG_CACHE_HOME="$tmp_home/.cache" XDG_RUNTIME_DIR="$tmp_home/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export PIN_STATION_TEST_KEYRING=1
exec dbus-run-session -- bash -c '
  # A throw-away password creates and unlocks a fresh login keyring without a prompt.
  eval "$(printf "pin-station-test" | gnome-keyring-daemon --unlock --components=secrets)"
  export GNOME_KEYRING_CONTROL
  exec "$@"' bash "$@"
