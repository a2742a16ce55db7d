#!/usr/bin/env bash
# Headless Chromium for the browser tests (tests/gateway/test_docs_offline.py, the oversight
# dashboard's tests/oversight/test_dashboard_browser.py) and a CJK font so its screenshots show
# Chinese text, from Debian's packages: never a browser download of its own. Installed once;
# later runs find them. When they cannot be installed (no root, no apt), say so and go on: those
# tests then skip with a message.
set -uo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if command -v fc-list >/dev/null 2>&1 && ! fc-list :lang=zh | grep -q .; then
  need+=(fonts-wqy-microhei)
elif ! command -v fc-list >/dev/null 2>&1 && [ ! -d /usr/share/fonts/truetype/wqy ]; then
  need+=(fonts-wqy-microhei)
fi
if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[chromium] ${need[*]} not installed and cannot install here (needs root and apt-get): the browser tests will skip"
  exit 0
fi
echo "[chromium] installing Debian's ${need[*]} (once)"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; }; then
  echo "[chromium] install failed: the browser tests will skip"
fi
exit 0
