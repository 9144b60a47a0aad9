"""gunicorn settings for ThaliMon (read from the working directory by gunicorn itself:
the Docker image, docker-compose.yml and bench/load.py all start gunicorn here).

Environment: GUNICORN_WORKERS (4), GUNICORN_THREADS (2), PORT (8000).
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# Threads keep connections alive (a sync worker closes every connection, so every
# request would pay a new TLS handshake behind a proxy that does not pool).
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# Longer than a client's or proxy's idle pause (people read a page for 3–10 s; proxies
# keep idle connections up to 60 s): a server closing an idle connection just as the next
# request arrives on it drops that request ("remote end closed connection").
keepalive = 75
timeout = 120

# The access log names the path, never the query string or the Referer: a patient
# search is /patients/?q=<name>, and names must not reach the logs (only codes may).
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
