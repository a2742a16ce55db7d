#!/usr/bin/env bash
# Private PostgreSQL cluster for tests: 127.0.0.1/::1 port 55432,
# role jiyue/jiyue (CREATEDB) owning database jiyue.
#   deploy/local/postgres.sh {install|start|stop|status}
set -euo pipefail
_DEPLOY_SVC=postgres
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PG_PORT="${JIYUE_PG_PORT:-55432}"
PG_ROLE=jiyue
PG_PASSWORD=jiyue
PG_DB=jiyue
PG_OS_USER=postgres
PG_BASE="$JIYUE_DEPLOY_DIR/pgdata"   # PGDATA
PG_SOCK="$JIYUE_DEPLOY_DIR/pgsock"   # private unix socket dir
PG_LOG="$JIYUE_DEPLOY_DIR/logs/postgres.log"
START_TIMEOUT=60

pkg_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

# Directory with initdb/pg_ctl/postgres: the version the cluster was made
# with if it exists, else the newest installed.
pg_bindir() {
  local ver
  if [ -s "$PG_BASE/PG_VERSION" ]; then
    ver=$(cat "$PG_BASE/PG_VERSION")
  else
    ver=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -V | tail -n1)
  fi
  [ -n "$ver" ] && [ -x "/usr/lib/postgresql/$ver/bin/pg_ctl" ] \
    || die "PostgreSQL server binaries not found under /usr/lib/postgresql (run '$0 install')"
  echo "/usr/lib/postgresql/$ver/bin"
}

as_pg() { (cd / && runuser -u "$PG_OS_USER" -- "$@"); }

install_pkg() {
  if pkg_installed postgresql && [ -n "$(find /usr/lib/postgresql -name pg_ctl 2>/dev/null | head -n1)" ]; then
    log "package postgresql already installed ($(dpkg-query -W -f='${Version}' postgresql))"
    return
  fi
  require_root
  log "installing Debian package postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q 2>&1 | sed -u 's/^/[deploy] postgres: apt: /'
  apt-get install -y -q postgresql 2>&1 | sed -u 's/^/[deploy] postgres: apt: /'
  pkg_installed postgresql || die "apt-get install postgresql failed"
}

init_cluster() {
  require_root
  mkdir -p "$JIYUE_DEPLOY_DIR/logs"
  ensure_traversable "$JIYUE_DEPLOY_DIR"
  install -d -o "$PG_OS_USER" -g "$PG_OS_USER" -m 0700 "$PG_SOCK"
  touch "$PG_LOG"; chown "$PG_OS_USER:" "$PG_LOG"
  if [ -s "$PG_BASE/PG_VERSION" ]; then
    return
  fi
  local bindir locale_opt
  bindir=$(pg_bindir)
  if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
    locale_opt=(--locale=C.UTF-8)
  else
    locale_opt=(--no-locale)
  fi
  log "initdb into $PG_BASE ($("$bindir/postgres" --version))"
  rm -rf "$PG_BASE"
  install -d -o "$PG_OS_USER" -g "$PG_OS_USER" -m 0700 "$PG_BASE"
  as_pg "$bindir/initdb" -D "$PG_BASE" -U postgres -E UTF8 "${locale_opt[@]}" \
    --auth-local=peer --auth-host=scram-sha-256 >"$JIYUE_DEPLOY_DIR/logs/initdb.log" 2>&1 \
    || { tail_log "$JIYUE_DEPLOY_DIR/logs/initdb.log"; die "initdb failed"; }
  # Test-oriented settings; included last so they win.
  as_pg tee "$PG_BASE/jiyue.conf" >/dev/null <<EOF
# Written by deploy/local/postgres.sh
listen_addresses = '127.0.0.1,::1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
shared_buffers = 128MB
work_mem = 8MB
maintenance_work_mem = 64MB
synchronous_commit = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 1GB
checkpoint_timeout = 15min
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
timezone = 'UTC'
EOF
  echo "include = 'jiyue.conf'" | as_pg tee -a "$PG_BASE/postgresql.conf" >/dev/null
}

is_ready() {
  pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 2
}

psql_super() {
  as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres "$@"
}

ensure_role_db() {
  psql_super <<EOF
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') THEN
    CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  ELSE
    ALTER ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
  END IF;
END
\$\$;
EOF
  if [ "$(psql_super -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != 1 ]; then
    log "creating database $PG_DB owned by $PG_ROLE"
    psql_super -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE"
  fi
  psql_super -c "ALTER DATABASE $PG_DB OWNER TO $PG_ROLE"
  # Check the credentials the tests use, over TCP, with the password.
  PGPASSWORD="$PG_PASSWORD" psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_ROLE" -d "$PG_DB" \
    -tAc 'SELECT 1' >/dev/null || die "cannot log in as $PG_ROLE over TCP"
}

do_start() {
  require_root
  install_pkg
  init_cluster
  local bindir
  bindir=$(pg_bindir)
  reserve_ports "$PG_PORT"
  if as_pg "$bindir/pg_ctl" -D "$PG_BASE" status >/dev/null 2>&1; then
    if is_ready; then
      log "already running on 127.0.0.1:$PG_PORT"
      ensure_role_db
      return
    fi
  elif port_in_use "$PG_PORT"; then
    die "port $PG_PORT is in use by another process; not starting"
  fi
  log "starting (data $PG_BASE, log $PG_LOG)"
  if ! as_pg "$bindir/pg_ctl" -D "$PG_BASE" -l "$PG_LOG" -w -t "$START_TIMEOUT" start >/dev/null; then
    tail_log "$PG_LOG"
    die "pg_ctl start failed"
  fi
  if ! wait_until "$START_TIMEOUT" "pg_isready OK on 127.0.0.1:$PG_PORT" is_ready; then
    tail_log "$PG_LOG"
    die "PostgreSQL not ready after ${START_TIMEOUT}s"
  fi
  ensure_role_db
  log "ready: postgresql://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT/$PG_DB"
}

do_stop() {
  if [ ! -s "$PG_BASE/PG_VERSION" ]; then
    log "no cluster at $PG_BASE; nothing to stop"
    return
  fi
  local bindir
  bindir=$(pg_bindir)
  if as_pg "$bindir/pg_ctl" -D "$PG_BASE" status >/dev/null 2>&1; then
    log "stopping"
    as_pg "$bindir/pg_ctl" -D "$PG_BASE" -m fast -w -t 60 stop >/dev/null
    log "stopped"
  else
    log "not running"
  fi
}

do_status() {
  if is_ready; then
    log "running: 127.0.0.1:$PG_PORT ready (data $PG_BASE)"
  else
    log "not running (nothing ready on 127.0.0.1:$PG_PORT)"
    return 3
  fi
}

case "${1:-}" in
  install) install_pkg; init_cluster; log "installed" ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  *) usage_action ;;
esac
