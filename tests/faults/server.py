"""The app in a real WSGI server in a thread: one thread serving every request in turn, as
one gunicorn sync worker does, so that its database connection lives from request to
request as CONN_MAX_AGE says (the test client keeps its connection whatever the setting).
Used by the fault tests and by bench/pages.py.
"""

import threading
from contextlib import contextmanager
from wsgiref.simple_server import WSGIRequestHandler, make_server


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@contextmanager
def app_server(conn_max_age=None):
    """Yields the server's base URL. ``conn_max_age``: this server thread's CONN_MAX_AGE
    instead of the settings' (e.g. 0, a new database connection for every request)."""
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connections

    server = make_server("127.0.0.1", 0, WSGIHandler(), handler_class=_QuietHandler)

    def serve():
        if conn_max_age is not None:
            default = connections["default"]
            default.settings_dict = {**default.settings_dict, "CONN_MAX_AGE": conn_max_age}
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()  # or the test database could not be dropped

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
