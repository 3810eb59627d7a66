"""Clients of the served system, as a browser and a program would be: cookies and CSRF for pages and websockets, a
token for the API. Everything goes over real sockets to the stack's port."""

from __future__ import annotations

import re
from dataclasses import dataclass

import aiohttp

from tests.system.stack import PASSWORD, USERNAME, System

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SESSION_PATH = re.compile(r"/sessions/(\d+)/")


def http_session(**options) -> aiohttp.ClientSession:
    # Cookies for 127.0.0.1 (aiohttp keeps none for IP addresses unless told to).
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True), **options)


@dataclass
class Browser:
    """A signed-in browser: its cookies, and the pages' CSRF tokens."""

    system: System
    http: aiohttp.ClientSession

    async def login(self) -> Browser:
        token = await self._csrf("/accounts/login/")
        form = {"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token}
        async with self.http.post(
            f"{self.system.url}/accounts/login/",
            data=form,
            headers=self._referer("/accounts/login/"),
            allow_redirects=False,
        ) as response:
            assert response.status == 302, f"login failed with {response.status}"
        return self

    async def start_session(self, text: str) -> int:
        """Search from the home page, as the form does; the id of the session it opens."""
        token = await self._csrf("/")
        async with self.http.post(
            f"{self.system.url}/",
            data={"q": text, "csrfmiddlewaretoken": token},
            headers=self._referer("/"),
            allow_redirects=False,
        ) as response:
            assert response.status == 302, f"the search failed with {response.status}"
            return int(SESSION_PATH.search(response.headers["Location"]).group(1))

    async def socket(self, path: str) -> aiohttp.ClientWebSocketResponse:
        return await self.http.ws_connect(f"{self.system.ws_url}{path}", origin=self.system.url, heartbeat=None)

    async def _csrf(self, path: str) -> str:
        async with self.http.get(f"{self.system.url}{path}") as response:
            return CSRF.search(await response.text()).group(1)

    def _referer(self, path: str) -> dict:
        return {"Referer": f"{self.system.url}{path}"}


def api_headers(system: System, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Token {system.token}", **extra}
