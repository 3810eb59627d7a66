"""Checks every piece of untrusted text and JSON passes before the domain sees it, whichever interface it came by.

Each refusal is an InvalidQuery naming the field, never a crash deeper down (a NUL byte reaching PostgreSQL, an
unpaired surrogate reaching a UTF-8 encoder, a thousand-deep document reaching a recursive decoder).
"""

from __future__ import annotations

import json

from search.errors import InvalidQuery


def load_json(text: str, *, max_depth: int, field: str = "message") -> object:
    """Decode untrusted JSON text and check it (check_json_value); InvalidQuery says what is wrong."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise InvalidQuery(f"The {field} is nested more than {max_depth} levels deep.", field=field) from None
    except ValueError:
        raise InvalidQuery(f"The {field} is not valid JSON.", field=field) from None
    check_json_value(value, max_depth=max_depth, field=field)
    return value


def check_text(text: str, *, field: str) -> str:
    """`text` unchanged, or InvalidQuery when PostgreSQL could not store it (NUL) or it is not Unicode text."""
    if "\x00" in text:
        raise InvalidQuery(f"{field} contains a NUL character, which text may not contain.", field=field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidQuery(
            f"{field} contains an unpaired surrogate character: send valid Unicode text (UTF-8).", field=field
        ) from None
    return text


def check_json_value(value: object, *, max_depth: int, field: str = "message") -> None:
    """Refuse decoded JSON nested deeper than `max_depth`, or with a string (key or value) check_text refuses.

    Iterative, so a hostile document cannot exhaust the stack here, however deep it is.
    """
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            check_text(item, field=field)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                raise InvalidQuery(f"The {field} is nested more than {max_depth} levels deep.", field=field)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
