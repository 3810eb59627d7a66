"""Every API error is a 4xx JSON body that names the field and the problem.

    {"detail": "top_k: Ensure this value is less than or equal to 100.",
     "errors": [{"field": "top_k", "code": "max_value", "message": "Ensure this value is less than or equal to 100."}]}

`field` is a dotted path into the request ("filters.category", "relevant_ids.0"), or null when the problem is not one
field's (authentication, permissions, throttling, a missing object).
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions, serializers
from rest_framework.views import exception_handler as drf_exception_handler

from search.errors import InvalidQuery
from search.imagefiles import InvalidImage
from search.models import SearchSession, SearchTurn

NON_FIELD_KEYS = {"non_field_errors", "__all__"}


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


class ErrorItemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="dotted path of the request field, or null")
    code = serializers.CharField(help_text="machine-readable reason, e.g. required, max_value, not_found")
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="every problem in one line")
    errors = ErrorItemSerializer(many=True)


def exception_handler(exc: Exception, context: dict):
    exc = _as_api_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail))
    else:
        errors = [{"field": None, "code": _code_of(exc), "message": str(_detail_of(exc))}]
    response.data = error_body(errors)
    return response


def error_body(errors: list[dict]) -> dict:
    """The error body for these problems ({"field", "code", "message"} each); the schema's examples use it too."""
    return {"detail": "; ".join(_line(error) for error in errors), "errors": errors}


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, InvalidQuery):
        return exceptions.ValidationError({exc.field: [exc.message]})
    if isinstance(exc, InvalidImage):
        return exceptions.ValidationError({"image": [str(exc)]})
    if isinstance(exc, Http404 | SearchSession.DoesNotExist | SearchTurn.DoesNotExist):
        return exceptions.NotFound(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge(
            f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes (files aside); send less."
        )
    if isinstance(exc, MultiPartParserError):
        return exceptions.ParseError(f"Multipart form parse error - {exc}")
    if isinstance(exc, SuspiciousOperation):  # too many fields, a malformed header, ...
        return exceptions.ParseError(str(exc) or "The request is malformed.")
    if isinstance(exc, DataError):
        # A value PostgreSQL refuses (e.g. an id beyond bigint) is the client's mistake, not a server fault.
        return exceptions.ValidationError({"non_field_errors": ["A value is out of the range the database accepts."]})
    return exc


def _detail_of(exc: Exception):
    return getattr(exc, "detail", str(exc))


def _code_of(exc: Exception) -> str:
    detail = _detail_of(exc)
    return getattr(detail, "code", None) or getattr(exc, "default_code", "error")


def _flatten(data, path: str = ""):
    if isinstance(data, dict):
        for key, value in data.items():
            name = "" if key in NON_FIELD_KEYS else str(key)
            yield from _flatten(value, f"{path}.{name}" if path and name else (name or path))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            if isinstance(value, dict | list):
                yield from _flatten(value, f"{path}.{index}" if path else str(index))
            else:
                yield from _flatten(value, path)
    else:
        yield {"field": path or None, "code": getattr(data, "code", None) or "invalid", "message": str(data)}


def _line(error: dict) -> str:
    return f"{error['field']}: {error['message']}" if error["field"] else error["message"]
