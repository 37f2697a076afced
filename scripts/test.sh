#!/usr/bin/env bash
# Runs every check and test: deno fmt --check, deno lint, deno check, the Deno tests (unit and
# integration, against a real Postgres and the real servers) and the pgTAP files (pg_prove).
# It installs what is missing, uses its own throwaway cluster and free ports (the dev stack is never
# touched), stops everything it started even on failure, and ends with "N passed, N failed".
#   scripts/test.sh                  everything
#   scripts/test.sh --keep           leave the test cluster's directory behind for inspection
#   scripts/test.sh FILE...          only these test files (Deno *_test.ts and/or pgTAP *.test.sql),
#                                    against the same throwaway stack; skips fmt, lint and check
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"

keep=0
deno_files=()
sql_files=()
for arg in "$@"; do
  case "$arg" in
    --keep) keep=1 ;;
    -h | --help)
      show_help "$0"
      exit 0
      ;;
    -*) die "unknown option '$arg' (try --help)" ;;
    *.sql) sql_files+=("$arg") ;;
    *.ts | *.tsx | */) deno_files+=("$arg") ;;
    *) die "'$arg' is neither a Deno test (*.ts, or a folder ending in /) nor a pgTAP file (*.sql)" ;;
  esac
done
selected=$((${#deno_files[@]} + ${#sql_files[@]}))
for file in "${deno_files[@]}" "${sql_files[@]}"; do
  [ -e "$file" ] || die "no such test file: $file"
done
if [ "$selected" -eq 0 ]; then
  deno_files=(tests/)
  sql_files=(supabase/tests/database/*.test.sql)
fi

started_at=$(date +%s)
ensure_node_packages
ensure_postgres_packages
ensure_browser

artifacts="$CS_ROOT/test-artifacts"
rm -rf "$artifacts"
mkdir -p "$artifacts/logs"
run_dir="$(state_dir)/test-$$"
stack_pid=""

cleanup() {
  trap - EXIT INT TERM
  stop_process "$stack_pid"
  cluster_stop "$run_dir"
  [ -f "$run_dir/postgres.log" ] && cp "$run_dir/postgres.log" "$artifacts/logs/postgres.log"
  if [ "$keep" -eq 0 ]; then rm -rf "$run_dir"; else say "Kept $run_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The test stack's own configuration: nothing is inherited from a developer's shell or .local/env.
unset DATABASE_URL SUPABASE_DB_URL WHOP_API_BASE_URL WHOP_JWKS_URL WHOP_WEBHOOK_TARGET_URL SENTRY_DSN WHOP_SANDBOX_FIXTURES \
  WHOP_WEBHOOK_SECRET WHOP_API_KEY ENCRYPTION_KEYS LINK_SIGNING_KEY CRON_SECRET OPS_TOKEN WHOP_APP_ID \
  WEBHOOK_PROCESSING_ENABLED SCHEDULER_ENABLED NOTIFICATIONS_ENABLED ROLLBACK_MODE ALERT_WEBHOOK_URL \
  ALERT_EVALUATION_INTERVAL_SECONDS DASHBOARD_ALLOWED_ORIGINS DASHBOARD_EXPORT_IDLE_SECONDS DASHBOARD_EXPORT_MAX_SECONDS \
  WEBHOOK_FAILED_VERIFICATIONS_PER_IP
# Ops thresholds (web/ops/thresholds.ts) at their defaults: tests override them per app where they need to.
for name in $(compgen -v | grep -E '^OPS_'); do unset "$name"; done
export APP_ENV=local
# Tests drive the dispatcher themselves; a background cadence would race them.
export DISPATCH_INTERVAL_SECONDS=0
DB_PORT="$(free_port)" FUNCTIONS_PORT="$(free_port)" DASHBOARD_PORT="$(free_port)" WHOP_SANDBOX_PORT="$(free_port)"
export DB_PORT FUNCTIONS_PORT DASHBOARD_PORT WHOP_SANDBOX_PORT
load_or_create_secrets "$run_dir/env"
export_stack_env

passed=0
failed=0
failures=()
record() { # record NAME PASSED FAILED
  passed=$((passed + $2))
  failed=$((failed + $3))
  [ "$3" -eq 0 ] || failures+=("$1")
}
check_step() { # check_step NAME COMMAND...: one check, pass or fail
  say "$1"
  if (cd "$CS_ROOT" && "${@:2}"); then record "$1" 1 0; else record "$1" 0 1; fi
}

if [ "$selected" -eq 0 ]; then
  check_step "deno fmt --check" deno fmt --check
  check_step "deno lint" deno lint
  check_step "deno check" deno task --quiet check
fi

say "Starting a throwaway Postgres on 127.0.0.1:$DB_PORT ($run_dir)"
cluster_init "$run_dir" test
cluster_start "$run_dir" "$DB_PORT"
say "Applying the bootstrap and migrations (supabase db push)"
apply_schema "$DATABASE_URL"
write_stack_env "$run_dir/stack.env"

say "Starting the stack (logs in test-artifacts/logs)"
cache_deno_modules scripts/stack.ts scripts/local/functions_gateway.ts web/main.ts whop-sandbox/main.ts
check_step "build islands" deno task --quiet build:islands
deno run --allow-all "$CS_ROOT/scripts/stack.ts" --quiet --logs "$artifacts/logs" >"$artifacts/logs/stack.log" 2>&1 &
stack_pid=$!
ready=0
for _ in $(seq 1 300); do
  if grep -q "local stack is up" "$artifacts/logs/stack.log" 2>/dev/null; then
    ready=1
    break
  fi
  kill -0 "$stack_pid" 2>/dev/null || break
  sleep 0.2
done
if [ "$ready" -eq 0 ]; then
  cat "$artifacts/logs/stack.log" >&2
  record "stack start" 0 1
elif [ ${#deno_files[@]} -gt 0 ]; then
  say "Deno tests"
  (cd "$CS_ROOT" && deno test --allow-all --quiet "${deno_files[@]}") 2>&1 | tee "$artifacts/deno-test.log"
  deno_status=${PIPESTATUS[0]}
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$artifacts/deno-test.log" | grep -E '^(ok|FAILED) \|' | tail -1)
  if [[ "$summary" =~ ([0-9]+)\ passed.*\|\ ([0-9]+)\ failed ]]; then
    deno_passed=${BASH_REMATCH[1]} deno_failed=${BASH_REMATCH[2]}
  else
    deno_passed=0 deno_failed=0
  fi
  [ "$deno_status" -ne 0 ] && [ "$deno_failed" -eq 0 ] && deno_failed=1
  record "deno test" "$deno_passed" "$deno_failed"
fi

if [ ${#sql_files[@]} -gt 0 ]; then
  say "pgTAP (pg_prove)"
  # pgTAP is a test-only install; the tests switch to the API roles, which must be able to call it.
  psql_url "$DATABASE_URL" -c "create extension if not exists pgtap with schema extensions" \
    -c "grant execute on all functions in schema extensions to anon, authenticated" >/dev/null
  (cd "$CS_ROOT" && pg_prove --host 127.0.0.1 --port "$DB_PORT" --username postgres --dbname postgres \
    "${sql_files[@]}") 2>&1 |
    tee "$artifacts/pgtap.log"
  prove_status=${PIPESTATUS[0]}
  tap_total=$(grep -oE 'Tests=[0-9]+' "$artifacts/pgtap.log" | tail -1 | cut -d= -f2)
  tap_failed=$(grep -oE 'Failed [0-9]+/[0-9]+ subtests' "$artifacts/pgtap.log" | awk '{split($2, a, "/"); s += a[1]} END {print s + 0}')
  tap_total=${tap_total:-0}
  [ "$prove_status" -ne 0 ] && [ "$tap_failed" -eq 0 ] && tap_failed=1
  record "pgTAP" "$((tap_total > tap_failed ? tap_total - tap_failed : 0))" "$tap_failed"
fi

echo
say "Finished in $(($(date +%s) - started_at)) s"
[ ${#failures[@]} -eq 0 ] || warn "failing: ${failures[*]} (logs in test-artifacts/)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
