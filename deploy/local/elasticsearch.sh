#!/usr/bin/env bash
# Single-node Elasticsearch for tests: http 127.0.0.1:59200, transport 59300,
# security off, run as the non-root OS user 'jiyue'.
#   deploy/local/elasticsearch.sh {install|start|stop|status}
#
# Distribution: the official integ-test zip from Maven Central
# (org.elasticsearch.distribution.integ-test-zip:elasticsearch), fetched with
# mvn and cached under $JIYUE_CACHE_DIR; see deploy/README-elasticsearch.md.
set -euo pipefail
_DEPLOY_SVC=elasticsearch
# shellcheck source=common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Newest integ-test zip on Maven Central is 8.19.x (no 9.x is published there).
ES_VERSION="${JIYUE_ES_VERSION:-8.19.21}"
ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip"
case "$ES_VERSION" in
  9.*) ES_JAVA_HOME_DEFAULT=/usr/lib/jvm/temurin-25-jdk-amd64 ;;
  *) ES_JAVA_HOME_DEFAULT=/usr/lib/jvm/java-17-openjdk-amd64 ;;
esac
ES_JAVA="${JIYUE_ES_JAVA_HOME:-$ES_JAVA_HOME_DEFAULT}"
ES_HTTP_PORT="${JIYUE_ES_PORT:-59200}"
ES_TRANSPORT_PORT="${JIYUE_ES_TRANSPORT_PORT:-59300}"
ES_HEAP_MIN="${JIYUE_ES_HEAP_MIN:-512m}"
ES_HEAP_MAX="${JIYUE_ES_HEAP_MAX:-1g}"
ES_CLUSTER=jiyue-test
START_TIMEOUT=120

ES_ZIP="$JIYUE_DOWNLOAD_DIR/elasticsearch-$ES_VERSION.zip"
ES_HOME="$JIYUE_CACHE_DIR/elasticsearch/elasticsearch-$ES_VERSION"
ES_RUN="$JIYUE_DEPLOY_DIR/es"
ES_CONF="$ES_RUN/config"
ES_PID="$ES_RUN/es.pid"
ES_LOG="$ES_RUN/logs/$ES_CLUSTER.log"
ES_STDOUT="$ES_RUN/logs/stdout.log"
ES_URL="http://127.0.0.1:$ES_HTTP_PORT"

fetch_zip() {
  if [ -s "$ES_ZIP" ] && unzip -tqq "$ES_ZIP" >/dev/null 2>&1; then
    log "zip cached: $ES_ZIP"
    return
  fi
  command -v mvn >/dev/null || die "mvn not found (needed to fetch $ES_ARTIFACT)"
  mkdir -p "$JIYUE_DOWNLOAD_DIR"
  local tmp; tmp=$(mktemp -d "$JIYUE_DOWNLOAD_DIR/.es-XXXXXX")
  log "fetching $ES_ARTIFACT with mvn"
  # -C: fail on checksum mismatch.
  if ! mvn -B -q -C org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
      -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$tmp" -Dmdep.overWriteReleases=true \
      >"$tmp/mvn.log" 2>&1; then
    sed 's/^/[deploy] elasticsearch: mvn: /' "$tmp/mvn.log" | tail -n 30 >&2
    rm -rf "$tmp"
    die "mvn could not fetch $ES_ARTIFACT"
  fi
  mv -f "$tmp/elasticsearch-$ES_VERSION.zip" "$ES_ZIP"
  rm -rf "$tmp"
  log "cached $ES_ZIP ($(du -h "$ES_ZIP" | cut -f1))"
}

unpack() {
  if [ -x "$ES_HOME/bin/elasticsearch" ] && [ -f "$ES_HOME/.jiyue-unpacked" ]; then
    log "distribution cached: $ES_HOME"
    return
  fi
  mkdir -p "$(dirname "$ES_HOME")"
  local tmp; tmp=$(mktemp -d "$(dirname "$ES_HOME")/.unpack-XXXXXX")
  log "unpacking into $ES_HOME"
  unzip -q "$ES_ZIP" -d "$tmp"
  [ -d "$tmp/elasticsearch-$ES_VERSION" ] || die "zip has no elasticsearch-$ES_VERSION/ top directory"
  chmod -R a+rX,go-w "$tmp/elasticsearch-$ES_VERSION"
  touch "$tmp/elasticsearch-$ES_VERSION/.jiyue-unpacked"
  rm -rf "$ES_HOME"
  mv "$tmp/elasticsearch-$ES_VERSION" "$ES_HOME"
  rm -rf "$tmp"
}

do_install() {
  require_root
  [ -x "$ES_JAVA/bin/java" ] || die "no java at $ES_JAVA (set JIYUE_ES_JAVA_HOME)"
  ensure_os_user "$JIYUE_OS_USER"
  fetch_zip
  unpack
  ensure_traversable "$ES_HOME"
  log "installed Elasticsearch $ES_VERSION (integ-test zip) at $ES_HOME, java $ES_JAVA"
}

# Per-run config dir (ES_PATH_CONF) so the cached distribution stays read-only.
write_config() {
  mkdir -p "$ES_RUN"/{data,logs,tmp}
  if [ ! -f "$ES_CONF/jvm.options" ]; then
    mkdir -p "$ES_CONF"
    cp -r "$ES_HOME/config/." "$ES_CONF/"
  fi
  mkdir -p "$ES_CONF/jvm.options.d"
  cat >"$ES_CONF/elasticsearch.yml" <<EOF
# Written by deploy/local/elasticsearch.sh on each start; edits are lost.
cluster.name: $ES_CLUSTER
node.name: jiyue-es-1
path.data: $ES_RUN/data
path.logs: $ES_RUN/logs
network.host: 127.0.0.1
http.port: $ES_HTTP_PORT
transport.port: $ES_TRANSPORT_PORT
discovery.type: single-node
xpack.security.enabled: false
# Tests run on developer disks that are often >90% full.
cluster.routing.allocation.disk.threshold_enabled: false
cluster.routing.allocation.disk.watermark.low: 97%
cluster.routing.allocation.disk.watermark.high: 98%
cluster.routing.allocation.disk.watermark.flood_stage: 99%
# Let tests delete indices by wildcard.
action.destructive_requires_name: false
EOF
  cat >"$ES_CONF/jvm.options.d/jiyue.options" <<EOF
-Xms$ES_HEAP_MIN
-Xmx$ES_HEAP_MAX
EOF
  chown -R "$JIYUE_OS_USER:" "$ES_RUN"
  ensure_traversable "$ES_RUN"
}

health_status() {
  curl -sS -m 5 "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null \
    | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p'
}

is_healthy() {
  case "$(health_status)" in green|yellow) return 0 ;; *) return 1 ;; esac
}

do_start() {
  require_root
  reserve_ports "$ES_HTTP_PORT" "$ES_TRANSPORT_PORT"
  if is_healthy; then
    log "already running at $ES_URL (health $(health_status))"
    return
  fi
  if is_pid_alive "$ES_PID"; then
    log "process $(cat "$ES_PID") is up but not healthy yet; waiting"
  else
    if port_in_use "$ES_HTTP_PORT"; then
      die "port $ES_HTTP_PORT is in use by another process; not starting"
    fi
    do_install
    write_config
    rm -f "$ES_PID"
    log "starting as OS user '$JIYUE_OS_USER' (data $ES_RUN/data, log $ES_LOG)"
    # -d: daemonize; -p: pid file. ES refuses to run as root.
    if ! (cd / && runuser -u "$JIYUE_OS_USER" -- env -i \
        PATH=/usr/bin:/bin HOME="$ES_RUN" LANG=C.UTF-8 \
        ES_JAVA_HOME="$ES_JAVA" ES_PATH_CONF="$ES_CONF" ES_TMPDIR="$ES_RUN/tmp" \
        "$ES_HOME/bin/elasticsearch" -d -p "$ES_PID" >"$ES_STDOUT" 2>&1); then
      tail_log "$ES_STDOUT" 40
      tail_log "$ES_LOG" 60
      die "elasticsearch failed to start"
    fi
  fi
  if ! wait_until "$START_TIMEOUT" "cluster health yellow/green at $ES_URL" is_healthy; then
    tail_log "$ES_STDOUT" 40
    tail_log "$ES_LOG" 80
    die "Elasticsearch not healthy after ${START_TIMEOUT}s"
  fi
  # (GET / is not served by the integ-test zip: it lacks the rest-root module.)
  log "ready: $ES_URL (version $(curl -fsS -m 5 "$ES_URL/_nodes/_local?filter_path=nodes.*.version" 2>/dev/null \
    | sed -n 's/.*"version":"\([^"]*\)".*/\1/p'))"
}

do_stop() {
  if ! is_pid_alive "$ES_PID"; then
    rm -f "$ES_PID"
    if is_healthy; then
      die "something answers at $ES_URL but it has no pid file at $ES_PID; not touching it"
    fi
    log "not running"
    return
  fi
  local pid; pid=$(cat "$ES_PID")
  log "stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "still alive after 60s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$ES_PID"
  log "stopped"
}

do_status() {
  if is_healthy; then
    log "running: $ES_URL health $(health_status) (pid $(cat "$ES_PID" 2>/dev/null || echo '?'))"
  elif is_pid_alive "$ES_PID"; then
    log "process $(cat "$ES_PID") alive but cluster not healthy at $ES_URL"
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
