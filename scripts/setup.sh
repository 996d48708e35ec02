#!/usr/bin/env bash
# Installs everything the app and its tests need.
#  - Debian/Ubuntu: the system packages below (as root, or through sudo).
#  - Elsewhere: install the equivalents yourself (see README "Other systems"), then run this for npm.
# Native modules (better-sqlite3-multiple-ciphers, keytar) build from source when no prebuilt binary
# can be fetched; that needs python3, make, g++ and libsecret's headers.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  chromium            # end-to-end tests drive Debian's Chromium with Playwright; npm start's development host
  xvfb                # a virtual display, so the development host and its --check run headless
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

# Electron's postinstall downloads its binary from outside the npm registry (GitHub): npm ci must
# never fail for want of it, so the install always skips it and the binary is tried on its own below.
export ELECTRON_SKIP_BINARY_DOWNLOAD=1

# Skip npm ci when node_modules was installed from this exact lock file (stamp written below).
lock_hash="$(sha256sum package-lock.json | cut -d' ' -f1)-node$(node -p process.versions.modules)"
if [[ "$(cat node_modules/.ehr-installed 2>/dev/null)" != "$lock_hash" ]]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
  echo "$lock_hash" > node_modules/.ehr-installed
fi

# The Electron binary, where the network allows (install.js returns at once when it is already there).
# Not fatal: without it npm start opens the development host (src-main/chromium-host) and npm test
# runs everything.
mkdir -p .data
electron_log=.data/electron-install.log
if ! (unset ELECTRON_SKIP_BINARY_DOWNLOAD; timeout 120 node node_modules/electron/install.js) >"$electron_log" 2>&1; then
  echo "setup: Electron's binary could not be downloaded (details: $electron_log); continuing without it."
fi
node --input-type=module -e '
  import { electronBinaryStatus } from "./scripts/start.mjs";
  import { readFileSync } from "node:fs";
  const s = electronBinaryStatus();
  if (s.ok) { console.log(`setup: npm start will use Electron at ${s.path}`); process.exit(0); }
  // The first line of the download log that names a cause (e.g. "getaddrinfo ENOTFOUND github.com").
  let log = "";
  try { log = readFileSync(process.argv[1], "utf8"); } catch {}
  const cause = log.split("\n").map((l) => l.trim()).find((l) => /^\w*Error\b|ENOTFOUND|ECONN|ETIMEDOUT|EAI_AGAIN|HTTPError/.test(l));
  const reason = (cause ?? (log.trim() ? "see " + process.argv[1] : "the download timed out or was skipped")).replace(/^\w*Error: /, "");
  console.log(`setup: no Electron binary (the download failed: ${reason}); npm start will use the development host (Debian\x27s Chromium), npm test runs everything`);
' "$electron_log"
