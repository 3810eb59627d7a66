"""Django's Redis cache with one connection pool per process: every cache object (one per request) shares it."""

import threading

from django.core.cache import caches

from imagesearch.cache import SharedPoolRedisCache


def test_cache_objects_of_different_threads_share_one_pool(settings):
    location = settings.CACHES["default"]["LOCATION"]
    pools = []

    def use_cache():
        cache = SharedPoolRedisCache(location, {})
        cache.set("shared-pool-probe", 1)
        pools.append(cache._cache._get_connection_pool(write=True))

    threads = [threading.Thread(target=use_cache) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(pool) for pool in pools}) == 1
    assert isinstance(caches["default"], SharedPoolRedisCache)
