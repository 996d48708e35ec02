#!/usr/bin/env bash
# Installs everything the app and its tests need.
#  - Debian/Ubuntu: the system packages below (as root, or through sudo).
#  - Elsewhere: install the equivalents yourself (see README "Other systems"), then run this for npm.
# Native modules (better-sqlite3-multiple-ciphers, keytar) build from source when no prebuilt binary
# can be fetched; that needs python3, make, g++ and libsecret's headers.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  chromium            # end-to-end tests drive Debian's Chromium with Playwright
  postgresql          # the server's production database, tested for real
  gnome-keyring dbus  # a real Secret Service keychain for keytar on Linux
  libsecret-1-dev     # keytar builds against libsecret
  python3 make g++    # node-gyp, for native modules
)

if command -v apt-get >/dev/null 2>&1 && [[ "${EHR_SKIP_APT:-}" != "1" ]]; then
  missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    sudo=(); [[ "$(id -u)" == "0" ]] || sudo=(sudo)
    echo "setup: installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
elif ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: not a Debian system; install Chromium, PostgreSQL, a Secret Service keyring (Linux) and a C++ toolchain yourself (see README)."
fi

# Skip npm ci when node_modules was installed from this exact lock file (stamp written below).
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)-node$(node -p process.versions.modules)"
if [[ "$(cat node_modules/.ehr-installed 2>/dev/null)" != "$lock_hash" ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.ehr-installed
fi
