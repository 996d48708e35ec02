#!/usr/bin/env bash
# Runs "$@" with a throwaway PostgreSQL cluster on a private socket and port, exported as
# EHR_TEST_DATABASE_URL (superuser) so the tests can run the server against real PostgreSQL.
# Steps aside when EHR_TEST_DATABASE_URL is already set (a developer's own server). Where no
# PostgreSQL server binaries are installed it runs "$@" without a cluster: the PostgreSQL variants
# then FAIL (test/helpers/postgres.ts) — they are part of every run, never skipped.
set -euo pipefail
if [[ -n "${EHR_TEST_DATABASE_URL:-}" ]]; then exec "$@"; fi
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
if [[ -z "$PG_BIN" || ! -x "$PG_BIN/initdb" ]]; then
  echo "postgres-session: no PostgreSQL server found (apt-get install postgresql, or set EHR_TEST_DATABASE_URL); the PostgreSQL tests will FAIL" >&2
  exec "$@"
fi
dir="$(mktemp -d -t ehr-pg.XXXXXX)"
port="${EHR_TEST_PG_PORT:-$(( 20000 + RANDOM % 20000 ))}"
as_pg=()
if [[ "$(id -u)" == "0" ]]; then chown postgres "$dir"; as_pg=(runuser -u postgres --); fi
"${as_pg[@]}" "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
cleanup() { "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
export EHR_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
"$@"
