"""Downloading images from the web with aiohttp: bounded concurrency, a time limit per URL, a byte limit enforced
while streaming, redirects followed by hand with the SSRF guard applied to every hop and every address connected to.

Only bytes come back; the caller checks the content with search.imagefiles.load_image.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings

from imagesearch.optional import require
from search.webfetch.ssrf import BlockedURL, check_addresses, check_url, host_is_exempt

try:
    import aiohttp
except ModuleNotFoundError:  # the web fetch is an optional group (requirements-web.txt): said when a fetch runs
    aiohttp = None

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class DownloadLimits:
    concurrency: int
    timeout: float
    max_bytes: int
    max_redirects: int
    user_agent: str

    @classmethod
    def from_settings(cls) -> DownloadLimits:
        return cls(
            concurrency=settings.WEB_FETCH_CONCURRENCY,
            timeout=settings.WEB_FETCH_TIMEOUT,
            max_bytes=settings.WEB_FETCH_MAX_BYTES,
            max_redirects=settings.WEB_FETCH_MAX_REDIRECTS,
            user_agent=settings.WEB_FETCH_USER_AGENT,
        )


@dataclass(frozen=True)
class Downloaded:
    url: str
    final_url: str
    data: bytes
    content_type: str


@dataclass(frozen=True)
class DownloadFailed:
    url: str
    reason: str


DownloadResult = Downloaded | DownloadFailed


class _Refused(Exception):
    """One URL cannot be downloaded; the message is the reason shown to the user."""


class GuardedResolver(aiohttp.ThreadedResolver if aiohttp else object):
    """aiohttp's resolver, refusing hosts with any non-public address: the check covers the addresses used."""

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET):
        results = await super().resolve(host, port, family)
        if not host_is_exempt(host):
            check_addresses(host, [result["host"] for result in results])
        return results


def download_images(urls: Sequence[str], limits: DownloadLimits | None = None) -> list[DownloadResult]:
    """Download every URL concurrently (from synchronous code); one result per URL, in order."""
    require("aiohttp", "web")
    return asyncio.run(download_all(urls, limits or DownloadLimits.from_settings()))


async def download_all(urls: Sequence[str], limits: DownloadLimits) -> list[DownloadResult]:
    semaphore = asyncio.Semaphore(limits.concurrency)
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(), limit=limits.concurrency, use_dns_cache=False)
    headers = {"User-Agent": limits.user_agent, "Accept": "image/*"}
    async with aiohttp.ClientSession(connector=connector, headers=headers, trust_env=False) as session:

        async def one(url: str) -> DownloadResult:
            async with semaphore:
                return await download_one(session, url, limits)

        return list(await asyncio.gather(*(one(url) for url in urls)))


async def download_one(session: aiohttp.ClientSession, url: str, limits: DownloadLimits) -> DownloadResult:
    try:
        async with asyncio.timeout(limits.timeout):
            final_url, data, content_type = await _follow(session, url, limits)
    except _Refused as error:
        return DownloadFailed(url, str(error))
    except BlockedURL as error:
        return DownloadFailed(url, f"blocked: {error}")
    except TimeoutError:
        return DownloadFailed(url, f"timed out after {limits.timeout:g} s")
    except (aiohttp.ClientError, OSError) as error:
        return DownloadFailed(url, f"download error: {_describe(error)}")
    return Downloaded(url, final_url, data, content_type)


async def _follow(session: aiohttp.ClientSession, url: str, limits: DownloadLimits) -> tuple[str, bytes, str]:
    current = url
    for hop in range(limits.max_redirects + 1):
        await asyncio.get_running_loop().run_in_executor(None, _check_hop, current, hop)
        async with session.get(current, allow_redirects=False) as response:
            if response.status in REDIRECT_STATUSES:
                location = response.headers.get("Location")
                if not location:
                    raise _Refused(f"HTTP {response.status} redirect without a Location")
                current = urljoin(current, location)
                continue
            return current, await _read_image(response, limits), response.content_type
    raise _Refused(f"more than {limits.max_redirects} redirects")


def _check_hop(url: str, hop: int) -> None:
    try:
        check_url(url)
    except BlockedURL as error:
        raise BlockedURL(f"redirect to {url}: {error}" if hop else str(error)) from None


async def _read_image(response: aiohttp.ClientResponse, limits: DownloadLimits) -> bytes:
    if response.status != 200:
        raise _Refused(f"HTTP {response.status}")
    if not response.content_type.startswith("image/"):
        raise _Refused(f"content type {response.content_type} is not an image")
    if response.content_length is not None and response.content_length > limits.max_bytes:
        raise _Refused(f"{response.content_length:,} bytes is over the limit of {limits.max_bytes:,}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        size += len(chunk)
        if size > limits.max_bytes:
            raise _Refused(f"more than {limits.max_bytes:,} bytes (stopped reading)")
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(error: Exception) -> str:
    if isinstance(error, aiohttp.ClientConnectorError) and isinstance(error.os_error, BlockedURL):
        return f"blocked: {error.os_error}"
    return str(error) or type(error).__name__
