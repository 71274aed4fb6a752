"""The Redis cache, failing soft: when Redis does not answer, a read is a miss and a write is
dropped (logged), so pages and the API keep serving while Redis is down.

What the cache holds can always be lost: cached figures are recomputed, debounce keys and the
API's per-minute request counts start again (the rate limit is not enforced while Redis is down).
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def _soft(name: str, fallback):
    method = getattr(RedisCache, name)

    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except RedisError as error:
            log.warning("cache unavailable (%s): %s ignored", type(error).__name__, name)
            return fallback(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


def _get_or_set(key, default, *args, **kwargs):
    return default() if callable(default) else default


class ResilientRedisCache(RedisCache):
    get = _soft("get", lambda key, default=None, version=None: default)
    get_many = _soft("get_many", lambda *a, **k: {})
    has_key = _soft("has_key", lambda *a, **k: False)
    # As if the key were absent: the caller goes ahead (a debounce or a rate window starts anew).
    add = _soft("add", lambda *a, **k: True)
    set = _soft("set", lambda *a, **k: None)
    set_many = _soft("set_many", lambda *a, **k: [])
    touch = _soft("touch", lambda *a, **k: False)
    delete = _soft("delete", lambda *a, **k: False)
    delete_many = _soft("delete_many", lambda *a, **k: None)
    incr = _soft("incr", lambda key, delta=1, version=None: delta)
    decr = _soft("decr", lambda key, delta=1, version=None: -delta)
    get_or_set = _soft("get_or_set", _get_or_set)
    clear = _soft("clear", lambda *a, **k: False)
