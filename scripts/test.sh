#!/usr/bin/env bash
# The whole test suite: lint, typecheck, unit + integration (vitest), end-to-end (Playwright in
# Debian's Chromium). Starts the services the tests need: a D-Bus session with an unlocked
# gnome-keyring (real keychain for keytar) and a throwaway PostgreSQL cluster.
# Run `npm run setup` first on a fresh machine (the README's test command does both).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${EHR_KEYRING_READY:-}" != "1" ]]; then
  exec scripts/keyring-session.sh scripts/postgres-session.sh "$0" "$@"
fi
step() { printf '\n=== %s\n' "$*"; }
step lint;       npx eslint . --max-warnings=0
step typecheck;  npm run --silent typecheck
step "unit + integration tests (vitest)"; npx vitest run
if [[ -d test/e2e ]] && ls test/e2e/*.spec.ts >/dev/null 2>&1; then
  step "renderer build";  npm run --silent build:renderer
  step "end-to-end tests (Playwright, Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium})"; npx playwright test
fi
