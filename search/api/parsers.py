"""Request body parsers: JSON with limits on depth and text, so a hostile body is a 400, never a crash."""

from __future__ import annotations

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from search.errors import InvalidQuery
from search.untrusted import check_json_value


class JsonParser(JSONParser):
    """DRF's JSON parser, refusing bodies nested deeper than JSON_MAX_DEPTH and strings PostgreSQL cannot store.

    The size limit is Django's (DATA_UPLOAD_MAX_MEMORY_SIZE, a 413 from the exception handler); Python's decoder
    itself gives up on a document a thousand levels deep with a RecursionError, turned into a 400 here too.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.JSON_MAX_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested more than {limit} levels deep.") from None
        try:
            check_json_value(data, max_depth=limit, field="body")
        except InvalidQuery as error:
            raise ParseError(f"JSON parse error - {error.message}") from None
        return data
