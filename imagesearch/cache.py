"""Django's Redis cache, with one connection pool per process instead of one per request.

Django keeps a cache object per request context, and its Redis client makes its connection pool per cache object:
under the ASGI server, where every request runs in a context (and thread) of its own, each request opened a new
Redis connection and paid its handshake, several times over for the throttles and the result cache. Here every
cache object of the process draws from the same pool (redis-py makes a new one after a fork).
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedPoolRedisCacheClient(RedisCacheClient):
    _shared_pools: dict[tuple, object] = {}
    _lock = threading.Lock()

    def _get_connection_pool(self, write):
        key = (self._servers[self._get_connection_pool_index(write)], self._pool_class)
        pool = self._shared_pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._shared_pools.get(key)
                if pool is None:
                    pool = self._pool_class.from_url(key[0], **self._pool_options)
                    self._shared_pools[key] = pool
        return pool


class SharedPoolRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = SharedPoolRedisCacheClient

    def set_each(self, entries: dict[str, tuple[object, int | None]]) -> None:
        """Several keys, each with its own timeout (seconds), in one round trip (a pipeline, not a transaction)."""
        client = self._cache.get_client(None, write=True)
        pipeline = client.pipeline(transaction=False)
        for key, (value, timeout) in entries.items():
            name = self.make_and_validate_key(key)
            pipeline.set(name, self._cache._serializer.dumps(value), ex=self.get_backend_timeout(timeout))
        pipeline.execute()
