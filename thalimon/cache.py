"""The shared Redis cache, degraded but working when Redis is down.

``FallbackRedisCache`` is Django's own ``RedisCache`` (what django-environ picks for a
``redis://`` CACHE_URL), with one difference: when Redis does not answer (connection
refused or reset, timeout), the call is answered by a per-process cache instead of raising,
so every page keeps working (the cohort report is computed, then kept in this process).

- The outage is logged once (ERROR, logger ``thalimon.cache``), and its end once (WARNING),
  never per call.
- While down, Redis is tried again at most every ``RETRY_AFTER`` seconds (default 5): a
  page does not wait for a dead server on every cache call.
- A value stored while down lives at most ``FALLBACK_TIMEOUT`` seconds (default 60) in the
  process: another process's write cannot leave it stale for longer.
- Counters incremented and keys deleted while down (the clinical-data generation, a
  finished import's progress) are incremented and deleted in Redis when it answers again,
  before anything is read from it: a report cached before the outage is not served after
  it as if nothing had been written.

Other errors (a wrong value type, a bug) still raise. Options, in CACHES' OPTIONS or the
CACHE_URL query: ``retry_after``, ``fallback_timeout``; the rest goes to redis-py.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("thalimon.cache")

OUTAGE = (RedisConnectionError, RedisTimeoutError)
MISSED_LIMIT = 1000  # writes remembered during one outage (replayed when Redis is back)


class _Health:
    """One Redis server's state in this process, shared by every thread's cache object."""

    def __init__(self, location, retry_after, fallback_timeout):
        self.location = location
        self.retry_after = retry_after
        self.fallback_timeout = fallback_timeout
        self.lock = threading.Lock()
        self.down_since = None
        self.next_try = 0.0
        self.missed = []  # ("incr", key, delta, version) / ("delete", key, None, version)
        self.local = LocMemCache(f"thalimon-fallback:{location}", {"OPTIONS": {"MAX_ENTRIES": 1000}})

    def failed(self, error):
        with self.lock:
            self.next_try = time.monotonic() + self.retry_after
            if self.down_since is not None:
                return
            self.down_since = time.monotonic()
        logger.error("Cache unavailable (%s at %s): pages served from a per-process cache until it answers",
                     type(error).__name__, self.location)

    def due(self):
        """Whether this call may go to Redis: up, or down long enough to try again (one
        thread at a time tries)."""
        if self.down_since is None:
            return True
        with self.lock:
            if time.monotonic() < self.next_try:
                return False
            self.next_try = time.monotonic() + self.retry_after
            return True


_health = {}
_health_lock = threading.Lock()


def health(location, retry_after=5, fallback_timeout=60):
    with _health_lock:
        if location not in _health:
            _health[location] = _Health(location, retry_after, fallback_timeout)
        return _health[location]


class FallbackRedisCache(RedisCache):
    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        retry_after = float(options.pop("retry_after", 5))
        fallback_timeout = int(options.pop("fallback_timeout", 60))
        super().__init__(server, {**params, "OPTIONS": options})
        self._health = health(",".join(self._servers), retry_after, fallback_timeout)

    @property
    def outage(self):
        """Whether Redis is known to be down (the calls go to the per-process cache)."""
        return self._health.down_since is not None

    def _call(self, name, *args, **kwargs):
        state = self._health
        if state.due():
            try:
                if state.down_since is not None:
                    self._recover()
                return getattr(super(), name)(*args, **kwargs)
            except OUTAGE as error:
                state.failed(error)
        if name in ("incr", "delete", "delete_many"):
            self._remember(name, *args, **kwargs)
        if "timeout" in kwargs:
            kwargs["timeout"] = self._local_timeout(kwargs["timeout"])
        return getattr(state.local, name)(*args, **kwargs)

    def _local_timeout(self, timeout):
        cap = self._health.fallback_timeout
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        return cap if timeout is None else min(timeout, cap)

    def _remember(self, name, *args, **kwargs):
        version = kwargs.get("version")
        if name == "incr":
            ops = [("incr", args[0], kwargs.get("delta", 1), version)]
        elif name == "delete":
            ops = [("delete", args[0], None, version)]
        else:
            ops = [("delete", key, None, version) for key in args[0]]
        with self._health.lock:
            self._health.missed = (self._health.missed + ops)[-MISSED_LIMIT:]

    def _recover(self):
        """Redis answers again (raises OUTAGE if not): replay what was missed, then log it."""
        state = self._health
        self._cache.get_client(write=True).ping()
        with state.lock:
            missed, state.missed = state.missed, []
        try:
            for op, key, delta, version in missed:
                if op == "incr":
                    try:
                        super().incr(key, delta=delta, version=version)
                    except ValueError:
                        pass  # no such counter in Redis: nothing to move forward
                else:
                    super().delete(key, version=version)
        except OUTAGE:
            with state.lock:
                state.missed = missed + state.missed
            raise
        with state.lock:
            if state.down_since is None:
                return
            seconds, state.down_since = time.monotonic() - state.down_since, None
        state.local.clear()
        logger.warning("Cache available again at %s after %.0f s", state.location, seconds)

    # Django's cache API, each call through _call ---------------------------------------
    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout=timeout, version=version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default=default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout=timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout=timeout, version=version)

    def delete(self, key, version=None):
        return self._call("delete", key, version=version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version=version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version=version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta=delta, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout=timeout, version=version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version=version)

    def clear(self):
        return self._call("clear")
