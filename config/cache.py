"""The Redis cache backend of production: one Redis client per connection pool, and a
cache that is a speed-up, never a dependency.

- Django's RedisCacheClient makes a new redis.Redis for every command, and redis-py
  builds its table of response callbacks in each new client: about half a millisecond,
  more than the command itself on a local Redis. The hot reads (the slot list, the
  display board) make one to three cache calls per request, so the client is made once
  per pool here. A redis.Redis is safe to share between threads.
- When Redis cannot be reached, a read is a miss and a write is skipped (logged once a
  minute at most), and the request goes on from the database: a booking or a queue
  call must not fail because the cache is down. Short socket timeouts (settings) keep
  a hung Redis from holding requests.
"""

import functools
import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
_last_warning = [0.0]


UNREACHABLE = (RedisConnectionError, RedisTimeoutError, OSError)


def _warn(operation: str) -> None:
    if time.monotonic() - _last_warning[0] > 60:
        _last_warning[0] = time.monotonic()
        logger.warning("Cache unreachable (%s): going on without it", operation,
                       exc_info=True)


def _tolerant(default):
    def wrap(method):
        @functools.wraps(method)
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE:
                _warn(method.__name__)
                return default() if callable(default) else default
        return call
    return wrap


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def get(self, key, default):
        try:
            return super().get(key, default)
        except UNREACHABLE:
            _warn("get")
            return default

    @_tolerant(dict)
    def get_many(self, keys):
        return super().get_many(keys)

    @_tolerant(None)
    def set(self, key, value, timeout):
        return super().set(key, value, timeout)

    @_tolerant(None)
    def set_many(self, data, timeout):
        return super().set_many(data, timeout)

    @_tolerant(False)
    def add(self, key, value, timeout):
        return super().add(key, value, timeout)

    @_tolerant(False)
    def delete(self, key):
        return super().delete(key)

    @_tolerant(None)
    def delete_many(self, keys):
        return super().delete_many(keys)

    @_tolerant(False)
    def touch(self, key, timeout):
        return super().touch(key, timeout)

    @_tolerant(False)
    def has_key(self, key):
        return super().has_key(key)

    @_tolerant(0)
    def incr(self, key, delta):
        return super().incr(key, delta)


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
