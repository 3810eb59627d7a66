"""Search results page by page through the served stack: the `next_cursor` of POST /api/search/ continues one
stable ranking across requests, whichever web process answers each."""

from __future__ import annotations

import asyncio

from tests.system.client import api_headers, http_session


def test_pages_through_the_server_are_the_first_ranking_in_order(system):
    async def scenario():
        async with http_session(headers=api_headers(system)) as http:
            url = f"{system.url}/api/search/"
            async with http.post(url, json={"query": "a shape on a background", "top_k": 45}) as response:
                whole = [hit["id"] for hit in (await response.json())["results"]]
            pages, cursor = [], None
            for _ in range(3):
                body = {"query": "a shape on a background", "top_k": 15, **({"cursor": cursor} if cursor else {})}
                async with http.post(url, json=body) as response:
                    assert response.status == 200, await response.text()
                    answer = await response.json()
                pages += [hit["id"] for hit in answer["results"]]
                cursor = answer["next_cursor"]
            return whole, pages

    whole, pages = asyncio.run(scenario())
    assert len(whole) == 45 and pages == whole
