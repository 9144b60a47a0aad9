"""A TCP proxy a test can cut and restore: the fault injector of the fault tests.

``FaultProxy(target_port).start()`` listens on a free loopback port and forwards every
connection to ``127.0.0.1:target_port`` (PostgreSQL, Redis, an SMTP server).
``cut()`` drops every open connection and refuses new ones (connection refused, as when
the service is down); ``restore()`` listens again on the same port. ``drop()`` only
drops the open connections (a restarted server, a network blip) and keeps accepting.
"""

import socket
import threading


class FaultProxy:
    def __init__(self, target_port, target_host="127.0.0.1"):
        self.target = (target_host, target_port)
        self.port = None
        self._listener = None
        self._pairs = set()
        self._lock = threading.Lock()
        self.accepted = 0

    # --- control -------------------------------------------------------------------
    def start(self):
        self._listen()
        return self

    def cut(self):
        """The service is down: open connections reset, new ones refused."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        self.drop()

    def restore(self):
        if self._listener is None:
            self._listen()

    def drop(self):
        """Every open connection is reset (the service restarted)."""
        with self._lock:
            pairs, self._pairs = self._pairs, set()
        for pair in pairs:
            for end in pair:
                _close(end)

    stop = cut

    @property
    def url_port(self):
        return self.port

    # --- inside ----------------------------------------------------------------------
    def _listen(self):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port or 0))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            if self._listener is not listener:  # cut while connecting
                _close(client), _close(upstream)
                return
            pair = (client, upstream)
            with self._lock:
                self._pairs.add(pair)
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink, pair), daemon=True).start()

    def _pipe(self, source, sink, pair):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._pairs.discard(pair)
            _close(source), _close(sink)


def _close(end):
    try:
        end.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    end.close()
