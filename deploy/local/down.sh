#!/usr/bin/env bash
# Stop the integration-test servers (all, or those named). Data is kept in
# $JIYUE_DEPLOY_DIR; delete that directory for a fresh start.
#   deploy/local/down.sh [postgres|elasticsearch|minio ...]   (aliases: pg, es, s3)
set -euo pipefail
_DEPLOY_SVC=down
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
  services=(minio elasticsearch postgres)
else
  for a in "$@"; do services+=("$(canon "$a")"); done
fi

rc=0
for svc in "${services[@]}"; do
  "$HERE/$svc.sh" stop || rc=1
done
exit $rc
