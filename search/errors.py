"""The domain's errors. Interfaces turn each into their own replies: a 4xx JSON body in the API, a message beside the
field on a page, an error message on the websocket; nothing here knows about any of them.
"""

from __future__ import annotations


class InvalidQuery(ValueError):
    """A query the search module refuses; interfaces turn it into a 4xx with this message."""

    def __init__(self, message: str, *, field: str = "query") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
