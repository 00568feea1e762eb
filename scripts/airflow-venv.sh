#!/usr/bin/env bash
# The isolated Apache Airflow virtualenv (default .airflow-venv/ at the project root) from the pinned
# scheduled/airflow/requirements.txt. Reused when present and built from the same requirements; rebuilt otherwise.
# Prints the virtualenv's path on the last line of stdout. Usage: scripts/airflow-venv.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

venv=$(realpath -m "${1:-.airflow-venv}")
reqs=scheduled/airflow/requirements.txt
want=$(sha256sum "$reqs" | cut -d' ' -f1)
stamp="$venv/.requirements.sha256"

mkdir -p "$(dirname "$venv")"
exec 9<"$reqs"
flock 9  # one build at a time (locking the requirements file: no lock file to leave behind)

if [ -x "$venv/bin/airflow" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv"
  exit 0
fi
echo "building $venv from $reqs (about a minute)" >&2
rm -rf "$venv"
${PYTHON:-python3} -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r "$reqs" >"$venv/pip.log" 2>&1 \
  || { tail -30 "$venv/pip.log" >&2; exit 1; }
echo "$want" > "$stamp"
echo "$venv"
