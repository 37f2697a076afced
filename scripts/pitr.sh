#!/usr/bin/env bash
# Point-in-time recovery drill for a local cluster (the dev cluster unless told otherwise). The
# cluster archives every completed WAL segment (scripts/lib/common.sh); a base backup plus that
# archive restores the database as it was at any later moment. Production uses Supabase's PITR.
#   deno task pitr backup                       take a base backup (pg_basebackup) of the running cluster
#   deno task pitr restore --to "<timestamp>"   restore the latest backup taken before <timestamp> and
#                                               replay the archived WAL up to it; the current data
#                                               directory is moved aside, never deleted. Processing
#                                               stays off afterwards: ROLLBACK_MODE is turned on
#                                               (audited as pitr.restore) before any client can
#                                               connect, until `deno task rollout resume`
#   deno task pitr list                         backups, the WAL archive and the window you can restore to
# Options: --cluster DIR   the cluster's directory (default: the dev cluster, $(state_dir)/dev;
#                          env PITR_CLUSTER_DIR)
#          --port N        the port to start a stopped cluster on (default DB_PORT, else 54322)
#          --actor NAME    who restores, for the audit log (default ROLLOUT_ACTOR, else cli:<OS user>)
# Timestamps: anything `date -d` reads, e.g. "2026-11-26 14:03:00+00" or "2026-11-26T14:03:00.5Z";
# without a zone they are read as UTC.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

command_name="${1:-}"
case "$command_name" in
  "")
    show_help "$0"
    exit 2
    ;;
  -h | --help)
    show_help "$0"
    exit 0
    ;;
  backup | restore | list) ;;
  *) die "unknown command '$command_name': use backup, restore --to \"<timestamp>\" or list (try --help)" ;;
esac
shift
cluster="${PITR_CLUSTER_DIR:-}"
port_option=""
target=""
# The rule of scripts/lib/actor.ts: --actor, else ROLLOUT_ACTOR, else cli:<OS user>.
actor="${ROLLOUT_ACTOR:-cli:${USER:-$(id -un)}}"
while [ $# -gt 0 ]; do
  case "$1" in
    --cluster) cluster="${2:?--cluster needs a directory}" && shift ;;
    --port) port_option="${2:?--port needs a number}" && shift ;;
    --to) target="${2:?--to needs a timestamp, e.g. --to \"2026-11-26 14:03:00+00\"}" && shift ;;
    --actor) actor="${2:?--actor needs a name}" && shift ;;
    -h | --help)
      show_help "$0"
      exit 0
      ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
  shift
done
cluster="${cluster:-$(state_dir)/dev}"
data="$cluster/data"
backups="$cluster/backups"
archive="$(wal_archive_dir "$cluster")"

[ -f "$data/PG_VERSION" ] || die "no Postgres cluster at $cluster (no $data/PG_VERSION). Start the dev stack once with scripts/dev.sh, or name the cluster with --cluster DIR."

# The port of the running cluster (postmaster.pid, line 4), else the one given, else DB_PORT's.
cluster_port() {
  if cluster_running "$cluster"; then
    sed -n 4p "$data/postmaster.pid"
  else
    echo "${port_option:-${DB_PORT:-54322}}"
  fi
}
cluster_url() { echo "postgresql://postgres@127.0.0.1:$(cluster_port)/postgres?sslmode=disable"; }
query() { psql_url "$(cluster_url)" -At -c "$1"; }
# Over the cluster's Unix socket only: while the restored database is started without TCP.
socket_query() { psql_url "host=$cluster port=$1 user=postgres dbname=postgres" -At -c "$2"; }

# A value as an SQL string literal (quotes doubled).
sql_literal() { printf "'%s'" "${1//\'/\'\'}"; }
iso_utc() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
human_size() { numfmt --to=iec --suffix=B "$1"; }
info_value() { sed -n "s/^$2=//p" "$1/backup.info"; }
owned_dir() {
  mkdir -p "$1"
  is_root && chown postgres:postgres "$1"
  return 0
}

# Backups in order, oldest first: their directory names are UTC timestamps.
backup_ids() {
  [ -d "$backups" ] || return 0
  local dir
  for dir in "$backups"/*/; do
    [ -f "$dir/backup.info" ] && basename "$dir"
  done | sort
}

take_backup() {
  cluster_running "$cluster" || die "the cluster at $cluster is not running. Start it (scripts/dev.sh) and run this again."
  [ "$(query "show archive_mode")" = on ] ||
    die "WAL archiving is off for $cluster, so a backup could not be rolled forward. Restart the cluster with scripts/dev.sh (it turns archiving on), then back up."
  local id started finished dir
  id="$(date -u +%Y%m%dT%H%M%SZ)"
  dir="$backups/$id"
  [ ! -e "$dir" ] || die "a backup named $id already exists; wait a second and run this again."
  owned_dir "$backups"
  owned_dir "$dir"
  say "Base backup of $cluster (port $(cluster_port)) into $dir"
  started="$(date +%s%N)"
  # -X stream: the backup carries the WAL it needs to be consistent; -c fast: checkpoint now.
  as_pg_owner "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$(cluster_port)" -U postgres -D "$dir/data" \
    -X stream -c fast -P -l "pitr $id" ||
    {
      rm -rf "$dir"
      die "pg_basebackup failed (see above); nothing was kept."
    }
  finished="$(date +%s%N)"
  local start_lsn end_lsn size
  start_lsn="$(grep -o '"Start-LSN": "[^"]*"' "$dir/data/backup_manifest" | head -1 | cut -d'"' -f4)"
  end_lsn="$(grep -o '"End-LSN": "[^"]*"' "$dir/data/backup_manifest" | tail -1 | cut -d'"' -f4)"
  size="$(du -sb "$dir/data" | cut -f1)"
  {
    echo "id=$id"
    echo "started_ns=$started"
    echo "finished_ns=$finished"
    echo "start_lsn=$start_lsn"
    echo "end_lsn=$end_lsn"
    echo "size_bytes=$size"
  } >"$dir/backup.info"
  echo
  printf '%-16s %s\n' "backup" "$id" "directory" "$dir" "size" "$(human_size "$size")" \
    "duration" "$(((finished - started) / 1000000)) ms" "WAL start" "$start_lsn" "WAL end" "$end_lsn" \
    "restorable" "to any moment after $(iso_utc $((finished / 1000000000))) (deno task pitr restore --to ...)"
}

list_backups() {
  local ids
  mapfile -t ids < <(backup_ids)
  printf '%-18s %-22s %10s %-12s %-12s\n' "BACKUP" "FINISHED (UTC)" "SIZE" "WAL START" "WAL END"
  local id dir
  for id in "${ids[@]}"; do
    dir="$backups/$id"
    printf '%-18s %-22s %10s %-12s %-12s\n' "$id" "$(iso_utc $(($(info_value "$dir" finished_ns) / 1000000000)))" \
      "$(human_size "$(info_value "$dir" size_bytes)")" "$(info_value "$dir" start_lsn)" "$(info_value "$dir" end_lsn)"
  done
  [ ${#ids[@]} -gt 0 ] || echo "(none yet: deno task pitr backup)"
  echo
  local segments=0 bytes=0
  if [ -d "$archive" ]; then
    segments="$(find "$archive" -maxdepth 1 -type f | wc -l)"
    bytes="$(du -sb "$archive" | cut -f1)"
  fi
  printf '%-16s %s\n' "WAL archive" "$archive ($segments files, $(human_size "$bytes"))"
  if cluster_running "$cluster"; then
    printf '%-16s %s\n' "archiving" "$(query "select case when current_setting('archive_mode') = 'on' then 'on, last archived ' || coalesce(last_archived_wal, '(none yet)') else 'OFF: restart with scripts/dev.sh' end from pg_stat_archiver")"
  fi
  if [ ${#ids[@]} -gt 0 ]; then
    printf '%-16s %s\n' "restorable" "from $(iso_utc $(($(info_value "$backups/${ids[0]}" finished_ns) / 1000000000))) to now"
  fi
}

# Makes sure the archive holds WAL past `target`: a commit stamped now (so the target is reached even
# when nothing was written after it), then a segment switch, then waiting for the archiver.
archive_current_wal() {
  local segment
  query "begin; select txid_current(); commit;" >/dev/null
  segment="$(query "select pg_walfile_name(pg_switch_wal())")"
  for _ in $(seq 1 150); do
    [ -f "$archive/$segment" ] && return 0
    sleep 0.2
  done
  die "WAL segment $segment was not archived within 30 s; check archive_command in $data/postgresql.conf and $cluster/postgres.log."
}

restore_to() {
  [ -n "$target" ] || die "restore needs --to \"<timestamp>\", e.g. --to \"$(date -u '+%Y-%m-%d %H:%M:%S')+00\"."
  local target_ns now_ns
  target_ns="$(TZ=UTC date -d "$target" +%s%N 2>/dev/null)" ||
    die "cannot read the timestamp \"$target\". Use e.g. \"2026-11-26 14:03:00+00\" or \"2026-11-26T14:03:00Z\"."
  now_ns="$(date +%s%N)"
  [ "$target_ns" -le "$now_ns" ] ||
    die "\"$target\" is in the future ($(iso_utc $((target_ns / 1000000000)))); restore to a moment that has passed."
  local target_pg
  target_pg="$(date -u -d "@$((target_ns / 1000000000)).$(printf '%09d' $((target_ns % 1000000000)))" '+%Y-%m-%d %H:%M:%S.%N+00')"

  local backup="" id
  for id in $(backup_ids); do
    [ "$(info_value "$backups/$id" finished_ns)" -lt "$target_ns" ] && backup="$id"
  done
  if [ -z "$backup" ]; then
    local oldest
    oldest="$(backup_ids | head -1)"
    if [ -n "$oldest" ]; then
      die "no base backup finished before $target_pg; the oldest finished at $(iso_utc $(($(info_value "$backups/$oldest" finished_ns) / 1000000000))). Choose a later time."
    fi
    die "there is no base backup of $cluster yet. Take one with: deno task pitr backup"
  fi

  local started port aside
  started="$(date +%s)"
  port="$(cluster_port)"
  if cluster_running "$cluster"; then
    say "Archiving the current WAL so the restore can reach $target_pg"
    archive_current_wal
    say "Stopping Postgres ($cluster, port $port)"
    cluster_stop "$cluster"
  fi
  port_in_use "$port" && die "port $port is taken by another program; free it or pass --port N."

  aside="$cluster/data.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  say "Moving the current data directory aside to $aside"
  mv "$data" "$aside"
  say "Restoring base backup $backup"
  cp -a "$backups/$backup/data" "$data"
  rm -f "$data/postmaster.pid"
  # WAL comes from the archive, or from the moved-aside pg_wal for what was never archived.
  {
    echo "# point-in-time recovery (deno task pitr restore); reset once recovery is done"
    echo "restore_command = 'cp \"$archive/%f\" \"%p\" 2>/dev/null || cp \"$aside/pg_wal/%f\" \"%p\"'"
    echo "recovery_target_time = '$target_pg'"
    echo "recovery_target_action = 'promote'"
  } | as_pg_owner tee -a "$data/postgresql.auto.conf" >/dev/null
  as_pg_owner touch "$data/recovery.signal"

  # Recovery runs without TCP (Unix socket only, in $cluster), so that no server and no pg_cron job
  # (it connects over TCP too) sees the restored database before processing is held off below.
  say "Starting Postgres (socket only, port $port) and replaying WAL up to $target_pg"
  local log_from
  log_from=$(($(wc -l <"$cluster/postgres.log" 2>/dev/null || echo 0) + 1))
  as_pg_owner "$PG_BIN/pg_ctl" -D "$data" -l "$cluster/postgres.log" -w -t 60 \
    -o "-p $port -c listen_addresses=''" start >/dev/null ||
    die "Postgres did not come up after the restore (see $cluster/postgres.log). The previous data directory is at $aside: to go back, stop Postgres and move it to $data."
  local recovering=t
  for _ in $(seq 1 300); do
    recovering="$(socket_query "$port" "select pg_is_in_recovery()" 2>/dev/null || echo t)"
    [ "$recovering" = f ] && break
    sleep 0.2
  done
  [ "$recovering" = f ] ||
    die "Postgres is still recovering after 60 s; see $cluster/postgres.log. The previous data directory is at $aside."
  socket_query "$port" "alter system reset restore_command" >/dev/null
  socket_query "$port" "alter system reset recovery_target_time" >/dev/null
  socket_query "$port" "alter system reset recovery_target_action" >/dev/null

  # The restored flags are those of the restore point, maybe from before a rollback: hold processing
  # off (ROLLBACK_MODE on, audited) until an operator has checked the data and resumes.
  local held="no feature flags in this database (nothing to hold)"
  if [ "$(socket_query "$port" "select to_regprocedure('private.hold_processing_after_restore(text,timestamptz,jsonb)') is not null")" = t ]; then
    local audit_id
    audit_id="$(socket_query "$port" "select private.hold_processing_after_restore(
        $(sql_literal "$actor"), $(sql_literal "$target_pg")::timestamptz,
        jsonb_build_object('backup', $(sql_literal "$backup"), 'previous_data', $(sql_literal "$aside")))")" ||
      die "could not turn ROLLBACK_MODE on in the restored database; Postgres is up without TCP on port $port (socket in $cluster): set it by hand before restarting it."
    held="ROLLBACK_MODE on (audit_log #$audit_id): nothing is processed, claimed or sent until \`deno task rollout resume\`"
  fi
  say "Restarting Postgres on port $port for every client"
  cluster_stop "$cluster"
  (cluster_start "$cluster" "$port") ||
    die "Postgres did not restart after the restore (see $cluster/postgres.log). The previous data directory is at $aside."

  local stopped timeline
  stopped="$(tail -n +"$log_from" "$cluster/postgres.log" | grep -oE 'recovery stopping (before|after) .*' | tail -1 || true)"
  timeline="$(query "select timeline_id from pg_control_checkpoint()")"
  echo
  printf '%-16s %s\n' "restored to" "$target_pg" "from backup" "$backup" \
    "recovery" "${stopped:-replayed all archived WAL up to the target}" "timeline" "$timeline (new history from here)" \
    "previous data" "$aside (kept; delete it when you no longer need it)" "port" "$port" \
    "processing" "$held" "duration" "$(($(date +%s) - started)) s"
  echo
  echo "The database is back as it was at $target_pg. Servers connected before (scripts/dev.sh) reconnect by themselves."
  case "$held" in
    ROLLBACK_MODE*)
      echo "Processing stays off, whatever the flags were at $target_pg: check the data (deno task rollout integrity),"
      echo "resend the webhooks received after the restore point, then run: deno task rollout resume"
      ;;
  esac
}

case "$command_name" in
  backup) take_backup ;;
  restore) restore_to ;;
  list) list_backups ;;
esac
