#!/usr/bin/env bash
# Runs "$@" inside a private D-Bus session with an unlocked gnome-keyring (Secret Service),
# so keytar talks to a real keychain in tests and on headless Linux machines.
# Already inside such a session (EHR_KEYRING_READY=1)? Just run the command.
set -euo pipefail
if [[ "${EHR_KEYRING_READY:-}" == "1" ]]; then exec "$@"; fi
if [[ -z "${EHR_IN_DBUS:-}" ]]; then
  export EHR_IN_DBUS=1
  exec dbus-run-session -- "$0" "$@"
fi
# A throwaway keyring home: tests never touch the developer's real keyring.
export XDG_DATA_HOME="${EHR_KEYRING_HOME:-$(mktemp -d -t ehr-keyring.XXXXXX)}"
# The login keyring is created (and unlocked) with this password on first use.
eval "$(printf '%s' "${EHR_KEYRING_PASSWORD:-ehr-test-keyring}" | gnome-keyring-daemon --unlock --components=secrets)"
eval "$(gnome-keyring-daemon --start --components=secrets)"
export GNOME_KEYRING_CONTROL SSH_AUTH_SOCK 2>/dev/null || true
export EHR_KEYRING_READY=1
exec "$@"
