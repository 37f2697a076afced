#!/usr/bin/env bash
# Starts the whole local stack with demo data: Postgres 15 (+ pg_cron, pgTAP), the migrations, the
# functions gateway, the dashboard and the Whop sandbox. Idempotent; Ctrl-C stops what it started.
#   scripts/dev.sh            install what is missing, start everything, tail the logs
#   scripts/dev.sh --no-seed  same, without loading the demo data
# Ports: DB_PORT (54322), FUNCTIONS_PORT (54321), DASHBOARD_PORT (8000), WHOP_SANDBOX_PORT (54330).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

seed=1
for arg in "$@"; do
  case "$arg" in
    --no-seed) seed=0 ;;
    -h | --help)
      show_help "$0"
      exit 0
      ;;
    *) die "unknown option '$arg' (try --help)" ;;
  esac
done

started_at=$(date +%s)
ensure_node_packages
ensure_postgres_packages

dev_dir="$(local_dir)"
mkdir -p "$dev_dir/logs"
load_or_create_secrets "$dev_dir/env"
export_stack_env

pg_dir="$(state_dir)/dev"
we_started_db=0
stack_pid=""
cleanup() {
  trap - EXIT INT TERM
  stop_process "$stack_pid"
  if [ "$we_started_db" -eq 1 ]; then
    say "Stopping Postgres"
    cluster_stop "$pg_dir"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -f "$pg_dir/data/PG_VERSION" ]; then
  say "Creating the dev Postgres cluster in $pg_dir"
  cluster_init "$pg_dir" dev
fi
# Clusters created before WAL archiving existed get it now (it needs a restart when already running).
ensure_wal_archiving "$pg_dir"
if ! cluster_running "$pg_dir"; then
  say "Starting Postgres on 127.0.0.1:$DB_PORT"
  cluster_start "$pg_dir" "$DB_PORT"
  we_started_db=1
fi

say "Applying the bootstrap and migrations"
apply_schema "$DATABASE_URL"
if [ "$seed" -eq 1 ]; then
  say "Loading demo data"
  psql_url "$DATABASE_URL" -f "$CS_ROOT/supabase/seed.sql" >/dev/null || die "loading supabase/seed.sql failed"
  # The Whop side of the same demo: memberships, payments, the demo admin's access.
  export WHOP_SANDBOX_FIXTURES="${WHOP_SANDBOX_FIXTURES:-$CS_ROOT/whop-sandbox/fixtures/demo.json}"
fi

write_stack_env "$dev_dir/stack.env"
cache_deno_modules scripts/stack.ts scripts/local/functions_gateway.ts web/main.ts whop-sandbox/main.ts
if [ "$seed" -eq 1 ]; then
  # After the env file: the members' details are encrypted under its ENCRYPTION_KEYS.
  deno run --allow-all --env-file="$dev_dir/stack.env" "$CS_ROOT/scripts/local/demo_members.ts" | sed 's/^/    /' >&2 ||
    die "writing the demo members failed"
fi
(cd "$CS_ROOT" && deno task --quiet build:islands) || warn "the islands could not be built: pages work, without their interactive parts"
say "Database ready in $(($(date +%s) - started_at)) s: $DATABASE_URL (data in $pg_dir)"

deno run --allow-all "$CS_ROOT/scripts/stack.ts" --logs "$dev_dir/logs" &
stack_pid=$!
wait "$stack_pid"
