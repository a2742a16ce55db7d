#!/usr/bin/env bash
# Install and start the integration-test servers (all, or those named), then
# write $JIYUE_DEPLOY_DIR/services.env for the test tier:
#   deploy/local/up.sh [postgres|elasticsearch|minio ...]     (aliases: pg, es, s3)
#   . "${JIYUE_DEPLOY_DIR:-$HOME/.cache/jiyue/run}/services.env"
# Services are installed and started in parallel; exit status is non-zero if
# any of them failed. Safe to re-run: running servers are just reported.
set -euo pipefail
_DEPLOY_SVC=up
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
. "$HERE/common.sh"

canon() {
  case "$1" in
    postgres|postgresql|pg) echo postgres ;;
    elasticsearch|es) echo elasticsearch ;;
    minio|s3) echo minio ;;
    *) die "unknown service '$1' (expected postgres, elasticsearch or minio)" ;;
  esac
}

services=()
if [ $# -eq 0 ]; then
  services=(postgres elasticsearch minio)
else
  for a in "$@"; do services+=("$(canon "$a")"); done
fi

require_root
mkdir -p "$JIYUE_DEPLOY_DIR/logs"
t0=$(now_s)
log "bringing up: ${services[*]} (run dir $JIYUE_DEPLOY_DIR, cache $JIYUE_CACHE_DIR)"

declare -A pids=()
for svc in "${services[@]}"; do
  ( "$HERE/$svc.sh" install && "$HERE/$svc.sh" start ) </dev/null &
  pids[$svc]=$!
done

failed=()
for svc in "${services[@]}"; do
  if wait "${pids[$svc]}"; then :; else failed+=("$svc"); fi
done

env_file="$JIYUE_DEPLOY_DIR/services.env"
cat >"$env_file.tmp" <<'ENV'
export JIYUE_TEST_POSTGRES_URL=postgresql+asyncpg://jiyue:jiyue@127.0.0.1:55432/jiyue
export JIYUE_TEST_ELASTICSEARCH_URL=http://127.0.0.1:59200
export JIYUE_TEST_S3_ENDPOINT=127.0.0.1:59000
export JIYUE_TEST_S3_ACCESS_KEY=jiyueadmin
export JIYUE_TEST_S3_SECRET_KEY=jiyue-secret-key-123
ENV
mv -f "$env_file.tmp" "$env_file"

log "status after $(( $(now_s) - t0 ))s:"
for svc in "${services[@]}"; do "$HERE/$svc.sh" status || true; done
log "wrote $env_file:"
cat "$env_file"

if [ ${#failed[@]} -gt 0 ]; then
  die "failed to start: ${failed[*]} (logs in $JIYUE_DEPLOY_DIR/logs and $JIYUE_DEPLOY_DIR/es/logs)"
fi
log "all up: ${services[*]}"
