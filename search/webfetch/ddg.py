"""DuckDuckGo image search: the one module that talks to DuckDuckGo (through the `ddgs` package).

Tests replace `_query_ddgs` (the one outside call). Results are cached per query for DDG_CACHE_SECONDS; a rate limit
is retried DDG_RETRIES times with exponential backoff, then reported as SearchRateLimited.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache

from imagesearch.optional import require

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageResult:
    url: str
    title: str = ""
    page_url: str = ""


class SearchFailed(Exception):
    """The image search did not answer; str(error) is shown to the user."""


class SearchRateLimited(SearchFailed):
    """DuckDuckGo keeps refusing us for asking too often."""


def image_search(query: str, *, max_results: int) -> list[ImageResult]:
    """Up to `max_results` image results for `query` (http/https URLs, no repeats), cached per query."""
    key = "ddg:images:" + hashlib.sha256(f"{query}\0{max_results}".encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return [ImageResult(**row) for row in cached]
    results = _unique(_with_backoff(query, max_results))
    if settings.DDG_CACHE_SECONDS:
        cache.set(key, [asdict(result) for result in results], settings.DDG_CACHE_SECONDS)
    return results


def _with_backoff(query: str, max_results: int) -> list[ImageResult]:
    require("ddgs", "web")
    from ddgs.exceptions import DDGSException, RatelimitException, TimeoutException

    for attempt in range(settings.DDG_RETRIES + 1):
        try:
            return _query_ddgs(query, max_results)
        except (RatelimitException, TimeoutException) as error:
            if attempt == settings.DDG_RETRIES:
                if isinstance(error, RatelimitException):
                    raise SearchRateLimited(
                        f"DuckDuckGo is rate-limiting image searches (refused {attempt + 1} times); "
                        "try again in a few minutes"
                    ) from error
                raise SearchFailed(f"DuckDuckGo did not answer in time ({attempt + 1} tries)") from error
            delay = settings.DDG_BACKOFF_SECONDS * 2**attempt
            logger.warning("DuckDuckGo refused %r (%s); retrying in %.1f s", query, type(error).__name__, delay)
            time.sleep(delay)
        except DDGSException as error:
            raise SearchFailed(f"DuckDuckGo image search failed: {error}") from error
    raise AssertionError("unreachable")


def _query_ddgs(query: str, max_results: int) -> list[ImageResult]:
    """The one call to DuckDuckGo."""
    from ddgs import DDGS

    rows = DDGS(timeout=int(settings.WEB_FETCH_TIMEOUT)).images(
        query,
        region=settings.DDG_REGION,
        safesearch=settings.DDG_SAFESEARCH,
        max_results=max_results,
        backend="duckduckgo",
    )
    return [
        ImageResult(url=row.get("image", ""), title=row.get("title", ""), page_url=row.get("url", "")) for row in rows
    ]


def _unique(results: list[ImageResult]) -> list[ImageResult]:
    seen: set[str] = set()
    unique = []
    for result in results:
        if result.url.lower().startswith(("http://", "https://")) and result.url not in seen:
            seen.add(result.url)
            unique.append(result)
    return unique
