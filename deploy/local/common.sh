# shellcheck shell=bash
# Shared helpers for deploy/local/*.sh. Source it; do not run it.
#
# Layout (override with the environment):
#   JIYUE_DEPLOY_DIR  run state: data, logs, pid files  (default $HOME/.cache/jiyue/run)
#   JIYUE_CACHE_DIR   download/build cache, kept across runs (default $HOME/.cache/jiyue)
#
# Deleting JIYUE_DEPLOY_DIR gives fresh servers; keeping JIYUE_CACHE_DIR keeps
# the next install free of network access.

: "${JIYUE_CACHE_DIR:=$HOME/.cache/jiyue}"
: "${JIYUE_DEPLOY_DIR:=$JIYUE_CACHE_DIR/run}"
export JIYUE_CACHE_DIR JIYUE_DEPLOY_DIR

export JIYUE_DOWNLOAD_DIR="$JIYUE_CACHE_DIR/downloads"
# Non-root OS user that runs servers refusing to run as root (Elasticsearch).
JIYUE_OS_USER="${JIYUE_OS_USER:-jiyue}"

_DEPLOY_SVC="${_DEPLOY_SVC:-deploy}"

log() { printf '[deploy] %s: %s\n' "$_DEPLOY_SVC" "$*"; }
warn() { printf '[deploy] %s: WARNING: %s\n' "$_DEPLOY_SVC" "$*" >&2; }
die() { printf '[deploy] %s: ERROR: %s\n' "$_DEPLOY_SVC" "$*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, switches OS users)"
}

now_s() { date +%s; }

# wait_until TIMEOUT_SECONDS DESCRIPTION CMD... : polls CMD every 0.5 s.
wait_until() {
  local timeout="$1" what="$2"; shift 2
  local start; start=$(now_s)
  while ! "$@" >/dev/null 2>&1; do
    if [ $(( $(now_s) - start )) -ge "$timeout" ]; then
      return 1
    fi
    sleep 0.5
  done
  log "$what after $(( $(now_s) - start ))s"
}

# is_pid_alive PIDFILE : true if the pid file names a live process.
is_pid_alive() {
  local pidfile="$1" pid
  [ -s "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# port_in_use PORT : true if something listens on PORT (any address).
port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# reserve_ports PORT... : our fixed ports (55432, 59xxx) lie inside Linux's
# ephemeral range (32768-60999), so any program binding port 0 - a test
# server, say - can be handed one of them and block our server. Adding them
# to net.ipv4.ip_local_reserved_ports stops that. Best effort (read-only
# /proc/sys in some containers).
reserve_ports() {
  [ -w /proc/sys/net/ipv4/ip_local_reserved_ports ] || return 0
  # Serialised: up.sh starts services in parallel (read-modify-write below).
  ( flock -w 30 9 || true; _reserve_ports "$@" ) 9>/tmp/.jiyue-deploy-ports.lock
}
_reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports cur p item found add=()
  cur=$(tr -d ' \n' <"$f")
  for p in "$@"; do
    found=0
    for item in ${cur//,/ }; do   # the kernel reports "a,b-c,..."
      if [ "${item%-*}" -le "$p" ] && [ "$p" -le "${item#*-}" ]; then found=1; break; fi
    done
    [ "$found" -eq 1 ] || add+=("$p")
  done
  [ ${#add[@]} -gt 0 ] || return 0
  local new; new=$(IFS=,; echo "${cur:+$cur,}${add[*]}")
  if echo "$new" >"$f" 2>/dev/null; then
    log "reserved port(s) ${add[*]} from the ephemeral range (net.ipv4.ip_local_reserved_ports=$(cat "$f"))"
  else
    warn "could not reserve ports ${add[*]} in $f"
  fi
}

# ensure_os_user NAME : create a locked system user with no login shell.
ensure_os_user() {
  local u="$1"
  id -u "$u" >/dev/null 2>&1 && return 0
  # Serialised: up.sh installs services in parallel.
  (
    flock -w 60 9 || die "timed out waiting for the useradd lock"
    if ! id -u "$u" >/dev/null 2>&1; then
      log "creating OS user '$u'"
      useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$u"
    fi
  ) 9>/tmp/.jiyue-deploy-useradd.lock
}

# ensure_traversable PATH : servers run as non-root users need to reach PATH,
# which may sit under a root-only $HOME. Add search (x, not read) permission for
# others on each ancestor that lacks it.
ensure_traversable() {
  local p
  p=$(readlink -f "$1")
  while [ "$p" != "/" ] && [ -n "$p" ]; do
    if [ -d "$p" ] && [ "$(( 0$(stat -c %a "$p") & 1 ))" -eq 0 ]; then
      log "granting search permission (o+x) on $p so service users can reach their files"
      chmod o+x "$p"
    fi
    p=$(dirname "$p")
  done
}

# tail_log FILE [N] : show the end of a log on failure.
tail_log() {
  local f="$1" n="${2:-60}"
  if [ -f "$f" ]; then
    printf '[deploy] %s: ---- last %s lines of %s ----\n' "$_DEPLOY_SVC" "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf '[deploy] %s: ---- end of %s ----\n' "$_DEPLOY_SVC" "$f" >&2
  else
    warn "no log file at $f"
  fi
}

usage_action() {
  echo "usage: $0 {install|start|stop|status}" >&2
  exit 2
}
