#!/usr/bin/env bash
# Deploys Churn Saver to production: links the Supabase project, applies the migrations
# (supabase db push), sets the functions' secrets, deploys both edge functions (their verify_jwt
# settings come from supabase/config.toml), then the dashboard to Deno Deploy (`deno deploy`).
# Everything comes from the environment (README, "Deploying to production", lists the variables);
# the configuration is checked offline first and nothing runs while any problem is left.
#   scripts/deploy.sh --dry-run   check the configuration and the project offline, print the plan
#   scripts/deploy.sh             the same checks, then run the plan
# Secrets never appear on a command line or in the output: the CLIs read them from env files
# written (mode 600) to a temporary directory that is removed at the end.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

dry_run=0
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=1 ;;
    -h | --help)
      show_help "$0"
      exit 0
      ;;
    *) die "unknown option '$arg' (try --help)" ;;
  esac
done

ensure_node_packages
cd "$CS_ROOT"
config_tool=(deno run --quiet --allow-read --allow-env --allow-write scripts/deploy_config.ts)

problems=0
say "Checking the production configuration (offline)"
"${config_tool[@]}" check || problems=1
say "Type-checking the functions, the dashboard and the scripts (deno check)"
check_log="$(mktemp)"
if deno task --quiet check >"$check_log" 2>&1; then
  echo "  deno check: OK"
else
  grep -E '^(error|TS[0-9]+|    at )' "$check_log" | sed 's/^/  /' | head -40 >&2 || true
  echo "  - deno check failed (run \`deno task check\` to see every error)" >&2
  problems=1
fi
rm -f "$check_log"
[ "$problems" -eq 0 ] || die "the configuration or the code has problems (listed above); nothing was deployed. Fix them and run scripts/deploy.sh --dry-run again."

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
function_vars="$("${config_tool[@]}" env-file functions "$work/functions.env")"
dashboard_vars="$("${config_tool[@]}" env-file dashboard "$work/dashboard.env")"
read -r -a dashboard_non_secrets <<<"$("${config_tool[@]}" non-secrets dashboard)"
functions=(whop-webhook dispatch-notifications)
ref="$SUPABASE_PROJECT_REF"
deploy_target=(--org "$DENO_DEPLOY_ORG" --app "$DENO_DEPLOY_APP")

step_number=0
# step "WHAT" COMMAND...: prints the step; unless this is a dry run, runs it and stops on failure.
step() {
  step_number=$((step_number + 1))
  local what="$1"
  shift
  printf '\n  %d. %s\n     $ %s\n' "$step_number" "$what" "$(printf '%q ' "$@" | sed -e "s#$work#<temp>#g" -e 's/ $//')"
  [ "$dry_run" -eq 1 ] && return 0
  "$@" || die "step $step_number ($what) failed; the steps before it are done. Fix the cause and run scripts/deploy.sh again (every step can be repeated)."
}

if [ "$dry_run" -eq 1 ]; then
  say "Plan (dry run: nothing below is run)"
else
  say "Deploying to Supabase project $ref and Deno Deploy app $DENO_DEPLOY_ORG/$DENO_DEPLOY_APP"
fi
# The Supabase CLI reads SUPABASE_ACCESS_TOKEN and SUPABASE_DB_PASSWORD from the environment.
step "Link the Supabase project" supabase link --project-ref "$ref"
step "Apply new migrations (the same command the local stack uses)" supabase db push --linked --yes
step "Set the functions' secrets: $function_vars" supabase secrets set --project-ref "$ref" --env-file "$work/functions.env"
step "Deploy the edge functions (verify_jwt per supabase/config.toml)" \
  supabase functions deploy "${functions[@]}" --project-ref "$ref" --use-api
step "Build the dashboard's islands" deno task --quiet build:islands
# deno deploy reads DENO_DEPLOY_TOKEN from the environment.
step "Set the dashboard's environment on Deno Deploy: $dashboard_vars" \
  deno deploy env load "$work/dashboard.env" "${deploy_target[@]}" --non-secrets "${dashboard_non_secrets[@]}"
step "Deploy the dashboard (web/main.ts) to production" \
  deno deploy "${deploy_target[@]}" --prod --ignore .local --ignore test-artifacts --ignore supabase/.temp

echo
if [ "$dry_run" -eq 1 ]; then
  say "Dry run: the configuration is valid and the plan above is what scripts/deploy.sh would run."
else
  say "Deployed. Check: curl -fsS https://<dashboard>/api/health and deno task rollout status"
fi
