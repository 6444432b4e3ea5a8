"""The Redis cache backend of production, with one Redis client per connection pool.

Django's RedisCacheClient makes a new redis.Redis for every command, and redis-py builds
its table of response callbacks in each new client: about half a millisecond, more than
the command itself on a local Redis. The hot reads (the slot list, the display board)
make two or three cache calls per request, so the client is made once per pool here. A
redis.Redis is safe to share between threads; Django keeps one cache object per thread
anyway.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


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


class ReusedClientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
