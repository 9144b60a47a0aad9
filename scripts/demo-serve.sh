#!/usr/bin/env bash
# Serve the demo: a real Celery worker with beat on kombu's filesystem
# transport (no Redis needed) next to Django's development server.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=1 THALIMON_DEMO=1
export REMINDER_SCAN_MINUTES="${REMINDER_SCAN_MINUTES:-5}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
# Links in the emails point at this server (the worker writes them).
export THALIMON_BASE_URL="${THALIMON_BASE_URL:-http://${HOST}:${PORT}}"
VAR="${THALIMON_VAR_DIR:-var}"
mkdir -p "$VAR"
.venv/bin/celery -A thalimon worker -B --pool solo --loglevel INFO --logfile "$VAR/celery.log" \
  --schedule "$VAR/celerybeat-schedule" &
WORKER=$!
trap 'kill "$WORKER" 2>/dev/null || true' EXIT INT TERM
echo "Celery worker and beat running (log: $VAR/celery.log); reminders rescan every ${REMINDER_SCAN_MINUTES} minutes."
echo "ThaliMon demo on http://${HOST}:${PORT}/ (Ctrl-C to stop)"
.venv/bin/python manage.py runserver "${HOST}:${PORT}"
