#!/usr/bin/env bash
# MinIO (S3-compatible, real SigV4 checks) for tests: 127.0.0.1:59000,
# root user jiyueadmin / jiyue-secret-key-123, run as OS user 'jiyue'.
#   deploy/local/minio.sh {install|start|stop|status}
#
# Built from source with `go install` through the Go module proxy and cached
# in $JIYUE_CACHE_DIR/bin (first build: ~2-3 min on 2 cores, ~150 MB binary).
set -euo pipefail
_DEPLOY_SVC=minio
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# MinIO tags releases as RELEASE.<date>, which Go cannot use as module
# versions; the proxy serves this pseudo-version (a 2026-02-12 commit).
MINIO_MODULE=github.com/minio/minio
MINIO_VERSION="${JIYUE_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
MINIO_ADDR=127.0.0.1
MINIO_PORT="${JIYUE_MINIO_PORT:-59000}"
MINIO_CONSOLE_PORT="${JIYUE_MINIO_CONSOLE_PORT:-59001}"
MINIO_USER=jiyueadmin
MINIO_PASSWORD=jiyue-secret-key-123
START_TIMEOUT=60

MINIO_BIN="$JIYUE_CACHE_DIR/bin/minio"
MINIO_STAMP="$JIYUE_CACHE_DIR/bin/minio.version"
MINIO_RUN="$JIYUE_DEPLOY_DIR/minio"
MINIO_PID="$MINIO_RUN/minio.pid"
MINIO_LOG="$JIYUE_DEPLOY_DIR/logs/minio.log"
MINIO_URL="http://$MINIO_ADDR:$MINIO_PORT"

installed_version() { cat "$MINIO_STAMP" 2>/dev/null || true; }

do_install() {
  require_root
  ensure_os_user "$JIYUE_OS_USER"
  if [ -x "$MINIO_BIN" ] && [ "$(installed_version)" = "$MINIO_MODULE@$MINIO_VERSION" ]; then
    log "binary cached: $MINIO_BIN ($MINIO_MODULE@$MINIO_VERSION)"
    ensure_traversable "$MINIO_BIN"
    return
  fi
  command -v go >/dev/null || die "go not found (needed to build $MINIO_MODULE)"
  mkdir -p "$JIYUE_CACHE_DIR/bin" "$JIYUE_CACHE_DIR/go" "$JIYUE_DEPLOY_DIR/logs"
  local build_log="$JIYUE_CACHE_DIR/go/minio-build.log" start
  start=$(now_s)
  log "building $MINIO_MODULE@$MINIO_VERSION with $(go version | cut -d' ' -f3) (log: $build_log; takes minutes on a cold cache)"
  if ! (
    export GOPATH="$JIYUE_CACHE_DIR/go"
    export GOMODCACHE="$JIYUE_CACHE_DIR/go/pkg/mod"
    export GOCACHE="$JIYUE_CACHE_DIR/go/build-cache"
    export GOBIN="$JIYUE_CACHE_DIR/bin"
    export GOFLAGS=-buildvcs=false
    export CGO_ENABLED=0
    # A machine whose Go is too old may need e.g. JIYUE_GOTOOLCHAIN=go1.27.3.
    if [ -n "${JIYUE_GOTOOLCHAIN:-}" ]; then export GOTOOLCHAIN="$JIYUE_GOTOOLCHAIN"; fi
    cd /tmp
    go install -trimpath "$MINIO_MODULE@$MINIO_VERSION"
  ) >"$build_log" 2>&1; then
    tail_log "$build_log" 40
    die "go install $MINIO_MODULE@$MINIO_VERSION failed"
  fi
  echo "$MINIO_MODULE@$MINIO_VERSION" >"$MINIO_STAMP"
  chmod a+rx "$MINIO_BIN"
  ensure_traversable "$MINIO_BIN"
  log "built $MINIO_BIN in $(( $(now_s) - start ))s ($(du -h "$MINIO_BIN" | cut -f1))"
}

is_ready() {
  curl -fsS -m 3 -o /dev/null "$MINIO_URL/minio/health/ready" 2>/dev/null
}

do_start() {
  require_root
  reserve_ports "$MINIO_PORT" "$MINIO_CONSOLE_PORT"
  if is_ready; then
    log "already running at $MINIO_URL"
    return
  fi
  if is_pid_alive "$MINIO_PID"; then
    log "process $(cat "$MINIO_PID") is up but not ready yet; waiting"
  else
    if port_in_use "$MINIO_PORT"; then
      die "port $MINIO_PORT is in use by another process; not starting"
    fi
    do_install
    mkdir -p "$MINIO_RUN"/{data,certs} "$JIYUE_DEPLOY_DIR/logs"
    chown -R "$JIYUE_OS_USER:" "$MINIO_RUN"
    ensure_traversable "$MINIO_RUN"
    touch "$MINIO_LOG"; chown "$JIYUE_OS_USER:" "$MINIO_LOG"
    rm -f "$MINIO_PID"
    log "starting as OS user '$JIYUE_OS_USER' (data $MINIO_RUN/data, log $MINIO_LOG)"
    # The inner shell records its pid, then execs (setpriv execs too), so the
    # pid file names the minio process itself.
    # shellcheck disable=SC2016  # $$ and $1 belong to the inner shell
    (cd / && setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$MINIO_PID" \
      setpriv --reuid="$JIYUE_OS_USER" --regid="$JIYUE_OS_USER" --init-groups -- \
      env -i PATH=/usr/bin:/bin HOME="$MINIO_RUN" \
        MINIO_ROOT_USER="$MINIO_USER" MINIO_ROOT_PASSWORD="$MINIO_PASSWORD" \
        MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
      "$MINIO_BIN" server --address "$MINIO_ADDR:$MINIO_PORT" \
        --console-address "$MINIO_ADDR:$MINIO_CONSOLE_PORT" \
        --certs-dir "$MINIO_RUN/certs" "$MINIO_RUN/data" \
      >>"$MINIO_LOG" 2>&1 </dev/null &)
  fi
  if ! wait_until "$START_TIMEOUT" "health/ready OK at $MINIO_URL" is_ready; then
    tail_log "$MINIO_LOG" 60
    die "MinIO not ready after ${START_TIMEOUT}s"
  fi
  log "ready: $MINIO_URL (access key $MINIO_USER)"
}

do_stop() {
  if ! is_pid_alive "$MINIO_PID"; then
    rm -f "$MINIO_PID"
    if is_ready; then
      die "something answers at $MINIO_URL but it has no pid file at $MINIO_PID; not touching it"
    fi
    log "not running"
    return
  fi
  local pid; pid=$(cat "$MINIO_PID")
  log "stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "still alive after 30s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$MINIO_PID"
  log "stopped"
}

do_status() {
  if is_ready; then
    log "running: $MINIO_URL ready (pid $(cat "$MINIO_PID" 2>/dev/null || echo '?'))"
  elif is_pid_alive "$MINIO_PID"; then
    log "process $(cat "$MINIO_PID") alive but not ready at $MINIO_URL"
    return 3
  else
    log "not running"
    return 3
  fi
}

case "${1:-}" in
  install) do_install ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  *) usage_action ;;
esac
