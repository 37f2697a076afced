# Shared by scripts/dev.sh and scripts/test.sh: toolchain installs, the local Postgres cluster,
# bootstrap + migrations, and the local configuration. Source it; it defines functions only.
# shellcheck shell=bash

CS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
export PATH="$CS_ROOT/node_modules/.bin:$PATH"
# package.json only pins the two CLIs for npm; Deno resolves its own npm: imports and should ignore it.
export DENO_NO_PACKAGE_JSON=1

say() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mwarning:\033[0m %s\n' "$*" >&2; }
die() {
  printf '\033[1;31merror:\033[0m %s\n' "$*" >&2
  exit 1
}

# Prints the comment block at the top of a script (after the shebang) as its help text.
show_help() { sed -n '2,/^[^#]/p' "$1" | sed '$d' | sed 's/^# \{0,1\}//'; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Where cluster data, sockets and logs live. As root the cluster runs as the `postgres` OS user,
# which may not be able to enter the checkout (CI clones under a home directory), so the state goes
# to /var/tmp under a name derived from the checkout path; otherwise it stays in .local/.
# CHURN_SAVER_STATE_DIR overrides both (the dev-script test uses it to stay off the real dev cluster).
state_dir() {
  if [ -n "${CHURN_SAVER_STATE_DIR:-}" ]; then
    echo "$CHURN_SAVER_STATE_DIR"
  elif is_root; then
    local hash
    hash="$(printf '%s' "$CS_ROOT" | sha256sum | cut -c1-12)"
    echo "/var/tmp/churn-saver-$hash"
  else
    local_dir
  fi
}

# Generated secrets, the effective configuration and logs of the dev stack (git-ignored).
local_dir() { echo "${CHURN_SAVER_LOCAL_DIR:-$CS_ROOT/.local}"; }

# Runs a Postgres server binary as the cluster's owner.
as_pg_owner() {
  if is_root; then
    # From /, since the postgres user may not be allowed into the current directory.
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# --- installs ---------------------------------------------------------------------------------

ensure_node_packages() {
  command -v npm >/dev/null 2>&1 || die "npm is not installed. Install Node.js 20+ (with npm), then run this again."
  local stamp="$CS_ROOT/node_modules/.package-lock.json"
  if [ -x "$CS_ROOT/node_modules/.bin/deno" ] && [ -x "$CS_ROOT/node_modules/.bin/supabase" ] &&
    [ "$stamp" -nt "$CS_ROOT/package-lock.json" ]; then
    return 0
  fi
  say "Installing the pinned deno and supabase CLIs (npm ci)"
  (cd "$CS_ROOT" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed: check that the npm registry is reachable."
}

APT_UPDATED=""
apt_install() {
  if ! is_root; then
    die "missing system packages: $*. Install them with: sudo apt-get install -y $*  (then run this again)"
  fi
  if [ -z "$APT_UPDATED" ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || die "apt-get update failed: check that Debian's package mirror is reachable."
    APT_UPDATED=1
  fi
  say "Installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    die "apt-get install $* failed."
}

# Postgres 15 with pg_cron and pgTAP (pg_prove comes with pgTAP).
ensure_postgres_packages() {
  local missing=()
  [ -x "$PG_BIN/postgres" ] || missing+=(postgresql-15)
  [ -f /usr/share/postgresql/15/extension/pg_cron.control ] || missing+=(postgresql-15-cron)
  [ -f /usr/share/postgresql/15/extension/pgtap.control ] || missing+=(postgresql-15-pgtap)
  # pg_prove is only a "recommends" of postgresql-15-pgtap.
  command -v pg_prove >/dev/null 2>&1 || missing+=(libtap-parser-sourcehandler-pgtap-perl)
  command -v psql >/dev/null 2>&1 || missing+=(postgresql-client-15)
  [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

# Debian's Chromium for the browser tests (playwright-core drives it; no browser download).
ensure_browser() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

# Deno keeps npm packages in its own cache; fetching them once up front keeps servers from racing.
cache_deno_modules() {
  (cd "$CS_ROOT" && deno cache --quiet "$@") || die "deno could not fetch its npm packages: check that the npm registry is reachable."
}

# --- configuration ----------------------------------------------------------------------------

random_hex() { od -An -tx1 -N"${1:-32}" /dev/urandom | tr -d ' \n'; }
random_base64() { head -c "${1:-32}" /dev/urandom | base64 | tr -d '\n'; }

# Gives each secret of ARCHITECTURE section 8 a value: the environment wins, then FILE (kept
# between runs), then a freshly generated one. Writes FILE back (mode 600) and exports everything.
load_or_create_secrets() {
  local file="$1"
  mkdir -p "$(dirname "$file")"
  local -A kept=()
  if [ -f "$file" ]; then
    local line
    # Split at the first "=" only: values (base64 keys) may contain and end with "=".
    while IFS= read -r line; do
      [[ "$line" =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]] && kept[${BASH_REMATCH[1]}]="${BASH_REMATCH[2]}"
    done <"$file"
  fi
  declare -A generated=(
    [WHOP_WEBHOOK_SECRET]="ws_$(random_hex 32)"
    [WHOP_API_KEY]="sandbox_key_$(random_hex 16)"
    [ENCRYPTION_KEYS]="k1:$(random_base64 32)"
    [LINK_SIGNING_KEY]="$(random_hex 32)"
    [CRON_SECRET]="$(random_hex 24)"
    [OPS_TOKEN]="$(random_hex 24)"
  )
  local name
  : >"$file.tmp"
  chmod 600 "$file.tmp"
  for name in WHOP_WEBHOOK_SECRET WHOP_API_KEY ENCRYPTION_KEYS LINK_SIGNING_KEY CRON_SECRET OPS_TOKEN; do
    if [ -z "${!name:-}" ]; then
      export "$name=${kept[$name]:-${generated[$name]}}"
    fi
    printf '%s=%s\n' "$name" "${!name}" >>"$file.tmp"
  done
  mv "$file.tmp" "$file"
}

# Exports the non-secret configuration of the local stack from the ports given.
export_stack_env() {
  export DB_PORT="${DB_PORT:-54322}" FUNCTIONS_PORT="${FUNCTIONS_PORT:-54321}"
  export DASHBOARD_PORT="${DASHBOARD_PORT:-8000}" WHOP_SANDBOX_PORT="${WHOP_SANDBOX_PORT:-54330}"
  export APP_ENV="${APP_ENV:-local}"
  local db_url="postgresql://postgres@127.0.0.1:$DB_PORT/postgres?sslmode=disable"
  export SUPABASE_DB_URL="${SUPABASE_DB_URL:-$db_url}" DATABASE_URL="${DATABASE_URL:-$db_url}"
  export WHOP_APP_ID="${WHOP_APP_ID:-app_churnsaverlocal}"
  export WHOP_API_BASE_URL="${WHOP_API_BASE_URL:-http://127.0.0.1:$WHOP_SANDBOX_PORT/api/v1}"
  export WHOP_JWKS_URL="${WHOP_JWKS_URL:-http://127.0.0.1:$WHOP_SANDBOX_PORT/.well-known/jwks.json}"
  export FUNCTIONS_URL="http://127.0.0.1:$FUNCTIONS_PORT/functions/v1"
  export DASHBOARD_URL="http://127.0.0.1:$DASHBOARD_PORT"
  export WHOP_SANDBOX_URL="http://127.0.0.1:$WHOP_SANDBOX_PORT"
  export WHOP_WEBHOOK_TARGET_URL="${WHOP_WEBHOOK_TARGET_URL:-$FUNCTIONS_URL/whop-webhook}"
}

# Writes the effective configuration where tools and tests can read it.
write_stack_env() {
  local file="$1" name
  : >"$file"
  chmod 600 "$file"
  for name in APP_ENV DB_PORT FUNCTIONS_PORT DASHBOARD_PORT WHOP_SANDBOX_PORT SUPABASE_DB_URL DATABASE_URL \
    FUNCTIONS_URL DASHBOARD_URL WHOP_SANDBOX_URL WHOP_WEBHOOK_TARGET_URL WHOP_APP_ID WHOP_API_BASE_URL \
    WHOP_JWKS_URL WHOP_WEBHOOK_SECRET WHOP_API_KEY ENCRYPTION_KEYS LINK_SIGNING_KEY CRON_SECRET OPS_TOKEN \
    WHOP_SANDBOX_FIXTURES DISPATCH_INTERVAL_SECONDS SENTRY_DSN WEBHOOK_PROCESSING_ENABLED SCHEDULER_ENABLED NOTIFICATIONS_ENABLED ROLLBACK_MODE; do
    [ -n "${!name:-}" ] && printf '%s=%s\n' "$name" "${!name}" >>"$file"
  done
  return 0
}

# Asks a process we started to stop (SIGTERM) and waits for it.
stop_process() {
  local pid="$1"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local port tries=0
  while [ $tries -lt 200 ]; do
    port=$((20000 + RANDOM % 30000))
    port_in_use "$port" || {
      echo "$port"
      return 0
    }
    tries=$((tries + 1))
  done
  die "no free TCP port found on 127.0.0.1"
}

# --- the Postgres cluster ---------------------------------------------------------------------

# cluster_init DIR [test]: a new cluster in DIR/data, sockets in DIR, pg_cron preloaded.
# "test" trades durability for speed; a test cluster is thrown away anyway.
cluster_init() {
  local dir="$1" kind="${2:-dev}"
  mkdir -p "$dir"
  is_root && chown postgres:postgres "$dir"
  as_pg_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$dir/initdb.log" 2>&1 || die "initdb failed; see $dir/initdb.log"
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "shared_preload_libraries = 'pg_cron'"
    echo "cron.database_name = 'postgres'"
    echo "max_connections = 200"
    echo "timezone = 'UTC'"
    echo "log_timezone = 'UTC'"
    if [ "$kind" = test ]; then
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } | as_pg_owner tee -a "$dir/data/postgresql.conf" >/dev/null
  # A throwaway test cluster has nothing worth recovering; every other one archives its WAL.
  [ "$kind" = test ] || ensure_wal_archiving "$dir"
}

# Where a cluster's completed WAL segments are copied (inside DIR, so the postgres OS user owns it).
wal_archive_dir() { echo "$1/wal_archive"; }

# ensure_wal_archiving DIR: turns WAL archiving on in DIR's configuration when it is not yet (dev
# clusters made before it existed). It takes effect at the next start, so `deno task pitr` can
# restore a base backup to any later moment.
ensure_wal_archiving() {
  local dir="$1" conf="$1/data/postgresql.conf" archive
  archive="$(wal_archive_dir "$dir")"
  if [ ! -d "$archive" ]; then
    mkdir -p "$archive"
    is_root && chown postgres:postgres "$archive"
  fi
  grep -q "^archive_mode = on" "$conf" && return 0
  {
    echo "# WAL archiving for point-in-time recovery (deno task pitr)"
    echo "wal_level = replica"
    echo "archive_mode = on"
    # Never overwrite a segment already archived (PostgreSQL's documented recipe).
    echo "archive_command = 'test ! -f \"$archive/%f\" && cp \"%p\" \"$archive/%f\"'"
  } | as_pg_owner tee -a "$conf" >/dev/null
  if cluster_running "$dir"; then
    warn "WAL archiving was turned on for $dir; it starts when Postgres restarts (stop dev.sh and run it again)."
  fi
}

cluster_running() { [ -f "$1/data/postmaster.pid" ] && as_pg_owner "$PG_BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

# cluster_start DIR PORT
cluster_start() {
  local dir="$1" port="$2"
  if cluster_running "$dir"; then
    return 0
  fi
  port_in_use "$port" && die "port $port is already taken by another program. Stop it, or choose another port with DB_PORT=NNNN."
  as_pg_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 -o "-p $port" start >/dev/null ||
    die "Postgres did not start; see $dir/postgres.log"
}

cluster_stop() {
  local dir="$1"
  cluster_running "$dir" || return 0
  as_pg_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

psql_url() { PGOPTIONS="-c client_min_messages=warning" psql "$1" -v ON_ERROR_STOP=1 -X -q "${@:2}"; }

# Supabase's roles, schemas and auth helpers, then the project's migrations with the same command
# production uses.
apply_schema() {
  local url="$1"
  psql_url "$url" -f "$CS_ROOT/supabase/bootstrap.sql" >/dev/null || die "the bootstrap SQL failed"
  # --db-url is a local cluster here, but the CLI still asks "push these migrations to the remote
  # database?" and lists them all before answering itself (--yes): only its progress is shown.
  (cd "$CS_ROOT" && supabase db push --db-url "$url" --yes 2>&1) | awk '
    /Connecting to remote database/ { next }
    /Do you want to push these migrations to the remote database/ { listing = 1; next }
    listing && /^[[:space:]]*•/ { next }
    listing && /\[Y\/n\]/ { listing = 0; next }
    { listing = 0; print "    " $0; fflush() }' >&2
  [ "${PIPESTATUS[0]}" -eq 0 ] || die "supabase db push failed"
}
