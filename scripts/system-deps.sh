#!/usr/bin/env bash
# Install the Debian packages the test suite needs when they are missing:
# redis-server (the Redis tests start their own on a free loopback port) and chromium
# (the browser tests drive it through Playwright), iproute2 (the media tests run the hub and
# Chromium in network namespaces of their own) and poppler-utils (pdftotext and pdftoppm
# read the minutes' PDF back and render its pages to PNG in tests/record/).
# Runs apt-get only if something is missing.
set -euo pipefail
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || need+=(iproute2)
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
