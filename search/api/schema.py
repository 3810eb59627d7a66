"""OpenAPI generation (drf-spectacular): component names from the views' nested serializers, and the error
responses every operation can give, documented with the one error body (search.api.errors) and an example of it."""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import AllowAny

from search.api.errors import ErrorSerializer
from search.api.examples import GENERIC_ERRORS


class AutoSchema(openapi.AutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        # SearchApi.InputSerializer -> SearchInput; SearchApi.OutputSerializer.HitSerializer -> SearchOutputHit
        parts = type(serializer).__qualname__.split(".")
        return "".join(part.removesuffix("Serializer").removesuffix("Api") for part in parts)

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for code, description in self._error_statuses():
            if code not in bodies:
                response = self._get_response_for_code(self._error_response(code), code, direction=direction)
                bodies[code] = {**response, "description": description}
        return bodies

    def _error_response(self, code: str) -> OpenApiResponse:
        # A view's own example of this error (e.g. the 400 its input gives) says more than the generic one.
        documented = any(code in map(str, example.status_codes or ()) for example in self.get_examples())
        return OpenApiResponse(ErrorSerializer, examples=[] if documented else [GENERIC_ERRORS[code]])

    def _error_statuses(self) -> list[tuple[str, str]]:
        # Only the errors the operation can give: one without inputs cannot be invalid, one without throttles is
        # never throttled (a documented status with no way to happen would need a made-up example).
        statuses = []
        if self._has_inputs():
            statuses.append(("400", "Invalid request: `errors` names each field and problem."))
        if not self._allows_anonymous():
            statuses += [("401", "Not authenticated."), ("403", "Not allowed.")]
        if "{" in self.path:
            statuses.append(("404", "No such object (or not yours)."))
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.append(("415", "Unsupported media type: send JSON or multipart/form-data."))
        if self.view.get_throttles():
            statuses.append(("429", "Throttled: wait and retry."))
        return statuses

    def _has_inputs(self) -> bool:
        return "{" in self.path or self.method in ("POST", "PUT", "PATCH") or bool(self.get_override_parameters())

    def _allows_anonymous(self) -> bool:
        return any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
