"""The embedded Redis: started once as a shared daemon on a unix socket, found again by every later process."""

import pytest
import redis
from django.core.exceptions import ImproperlyConfigured

from imagesearch.redis_server import celery_url, ensure_embedded_redis, redis_url, stop_embedded_redis


def test_it_starts_once_and_is_shared(tmp_path):
    data_dir = tmp_path / "redis"
    url = ensure_embedded_redis(data_dir)
    try:
        assert url == f"unix://{data_dir / 'redis.sock'}"
        client = redis.Redis.from_url(url)
        client.set("shared", "yes")
        pid = (data_dir / "redis.pid").read_text()
        assert ensure_embedded_redis(data_dir) == url  # a second process attaches to the same server
        assert (data_dir / "redis.pid").read_text() == pid
        assert redis.Redis.from_url(url).get("shared") == b"yes"
    finally:
        assert stop_embedded_redis(data_dir)
    assert not stop_embedded_redis(data_dir)


def test_redis_url_wins_and_must_be_a_redis_url(tmp_path):
    assert redis_url("redis://cache.internal:6379/2", tmp_path) == "redis://cache.internal:6379/2"
    assert not (tmp_path / "redis").exists()
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        redis_url("http://cache.internal/", tmp_path)


def test_celery_spells_unix_sockets_its_own_way():
    assert celery_url("unix:///srv/var/redis/redis.sock") == "redis+socket:///srv/var/redis/redis.sock"
    assert celery_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
