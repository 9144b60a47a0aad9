#!/usr/bin/env bash
# Serve the demo: a real Celery worker with beat on kombu's filesystem
# transport (no Redis needed) next to Django's development server.
#
#   scripts/demo-serve.sh        serve (Ctrl-C stops the server and the worker)
#   scripts/demo-serve.sh stop   stop a demo started in the background (make stop)
#
# The process ids are kept in $VAR/demo.pids (script, server, worker).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=1 THALIMON_DEMO=1
VAR="${THALIMON_VAR_DIR:-var}"
PIDS="$VAR/demo.pids"

# A recorded process that is still one of ours (not a reused pid).
ours() {
  local pid="$1"
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qE 'demo-serve|runserver|celery'
}

stop_demo() {
  [ -f "$PIDS" ] || { echo "No demo running (no $PIDS)."; return 0; }
  local pids pid left
  read -r -a pids <"$PIDS"
  for pid in "${pids[@]}"; do ours "$pid" && kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do  # up to 20 s for the worker's warm shutdown
    left=0
    for pid in "${pids[@]}"; do ours "$pid" && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do ours "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$PIDS"
  echo "Demo stopped."
}

if [ "${1:-}" = "stop" ]; then
  stop_demo
  exit 0
fi

if [ -f "$PIDS" ]; then
  read -r -a running <"$PIDS"
  for pid in "${running[@]}"; do
    if ours "$pid"; then
      echo "A demo is already running (pids ${running[*]}); stop it with: make stop" >&2
      exit 1
    fi
  done
  rm -f "$PIDS"
fi

export REMINDER_SCAN_MINUTES="${REMINDER_SCAN_MINUTES:-5}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"
# Links in the emails point at this server (the worker writes them).
export THALIMON_BASE_URL="${THALIMON_BASE_URL:-http://${HOST}:${PORT}}"
mkdir -p "$VAR"

# Static files as production serves them: hashed names, gzip and brotli copies
# (thalimon/staticstorage.py). Collected again only when a source file is newer.
export COLLECTED_STATIC=1
MANIFEST="$VAR/staticfiles/staticfiles.json"
if [ ! -f "$MANIFEST" ] || [ -n "$(find static .venv/.installed -newer "$MANIFEST" -print -quit 2>/dev/null)" ]; then
  echo "Collecting and compressing the static files (once; a minute at most)…"
  .venv/bin/python manage.py collectstatic --noinput --verbosity 0
fi

.venv/bin/celery -A thalimon worker -B --pool solo --loglevel INFO --logfile "$VAR/celery.log" \
  --schedule "$VAR/celerybeat-schedule" &
WORKER=$!
# No autoreloader: one process to stop, and the collected static files would not follow edits anyway.
.venv/bin/python manage.py runserver --noreload "${HOST}:${PORT}" &
SERVER=$!
echo "$$ $SERVER $WORKER" >"$PIDS"

finish() {
  trap - INT TERM EXIT
  kill -TERM "$SERVER" "$WORKER" 2>/dev/null || true
  wait "$SERVER" "$WORKER" 2>/dev/null || true
  rm -f "$PIDS"
  echo "Demo stopped."
}
trap finish INT TERM EXIT
echo "Celery worker and beat running (log: $VAR/celery.log); reminders rescan every ${REMINDER_SCAN_MINUTES} minutes."
echo "ThaliMon demo on http://${HOST}:${PORT}/ (Ctrl-C or make stop to stop)"
# Either process ending ends the demo (the trap stops the other).
wait -n "$SERVER" "$WORKER" || true
