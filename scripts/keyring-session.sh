#!/usr/bin/env bash
# Runs "$@" inside a private D-Bus session with an unlocked gnome-keyring (Secret Service),
# so keytar talks to a real keychain in tests and on headless Linux machines.
# Already inside such a session (EHR_KEYRING_READY=1)? Just run the command.
#
# Every session gets its own XDG_RUNTIME_DIR and XDG_DATA_HOME: gnome-keyring keeps its control
# socket in the runtime dir (~/.cache when unset), so sessions sharing it would attach to each
# other's daemon and find its login keyring locked.
set -euo pipefail
if [[ "${EHR_KEYRING_READY:-}" == "1" ]]; then exec "$@"; fi
if [[ -z "${EHR_IN_DBUS:-}" ]]; then
  export EHR_IN_DBUS=1
  exec dbus-run-session -- "$0" "$@"
fi
private="$(mktemp -d -t ehr-keyring.XXXXXX)"
chmod 700 "$private"
export XDG_RUNTIME_DIR="$private/run" XDG_DATA_HOME="${EHR_KEYRING_HOME:-$private/data}"
mkdir -p -m 700 "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME"
password="${EHR_KEYRING_PASSWORD:-ehr-test-keyring}"

start_daemon() { # $1: extra flag (--replace)
  # --unlock reads the login keyring's password on stdin and creates the keyring on first use.
  eval "$(printf '%s' "$password" | gnome-keyring-daemon ${1:-} --unlock --components=secrets 2>/dev/null)"
  eval "$(gnome-keyring-daemon --start --components=secrets 2>/dev/null)"
  export GNOME_KEYRING_CONTROL
}

# Ready means a client can store, read and delete an item. Probe with keytar itself where it is
# installed (it is what the app uses); otherwise trust the daemon's start.
probe() {
  [[ -f node_modules/keytar/package.json ]] || return 0
  node -e "
    const k = require('./node_modules/keytar'); const a = 'probe-' + process.pid;
    k.setPassword('ehr-keyring-probe', a, 'x').then(() => k.getPassword('ehr-keyring-probe', a))
      .then((v) => k.deletePassword('ehr-keyring-probe', a).then(() => process.exit(v === 'x' ? 0 : 1)))
      .catch(() => process.exit(1));" 2>/dev/null
}

start_daemon
for attempt in 1 2 3 4 5 6; do
  probe && break
  if (( attempt == 6 )); then echo "keyring-session: gnome-keyring did not become usable" >&2; exit 1; fi
  sleep 0.5
  (( attempt % 2 == 0 )) && start_daemon --replace
done
export EHR_KEYRING_READY=1
status=0
"$@" || status=$?
rm -rf "$private"
exit "$status"
