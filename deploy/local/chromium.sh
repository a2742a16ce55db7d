#!/usr/bin/env bash
# Headless Chromium for the /docs test (tests/gateway/test_docs_offline.py), from Debian's
# packages: never a browser download of its own. Installed once; later runs find it. When it
# cannot be installed (no root, no apt), say so and go on: that test then skips with a message.
set -uo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[chromium] not installed and cannot install it here (needs root and apt-get): the /docs browser test will skip"
  exit 0
fi
echo "[chromium] installing Debian's chromium (once)"
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
  echo "[chromium] install failed: the /docs browser test will skip"
fi
exit 0
