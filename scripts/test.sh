#!/usr/bin/env bash
# `make test`: system packages when missing, a throwaway PostgreSQL, lint, the whole suite; stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

mkdir -p test-output
# the cluster lives outside the checkout: run as root, its server runs as the postgres user, who may not be allowed
# into a private checkout (a home folder, a mktemp -d folder)
PGROOT=$(mktemp -d /tmp/soundcharts-test-pg.XXXXXX)
PGPORT=${SOUNDCHARTS_TEST_PG_PORT:-55432}
export SOUNDCHARTS_TEST_PG_URL SOUNDCHARTS_TEST_REQUIRE_PG=1  # here a PostgreSQL test fails, never skips, without it
trap 'scripts/pg-cluster.sh stop "$PGROOT"; rm -rf "$PGROOT"' EXIT
SOUNDCHARTS_TEST_PG_URL=$(scripts/pg-cluster.sh start "$PGROOT" "$PGPORT")
echo "PostgreSQL test server on 127.0.0.1:$PGPORT"

.venv/bin/ruff check .
.venv/bin/lint-imports
set +e
.venv/bin/python -m pytest -q -rfE --junitxml=test-output/junit.xml "$@"
rc=$?
set -e
[ $rc -eq 5 ] && { echo "no tests were collected" >&2; exit 1; }
exit $rc
