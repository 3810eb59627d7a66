"""OpenAPI generation (drf-spectacular): component names from the views' nested serializers, and the error
responses every operation can give, documented with the one error body (search.api.errors)."""

from __future__ import annotations

from drf_spectacular import openapi
from rest_framework.permissions import AllowAny

from search.api.errors import ErrorSerializer


class AutoSchema(openapi.AutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        # SearchApi.InputSerializer -> SearchInput; SearchApi.OutputSerializer.HitSerializer -> SearchOutputHit
        parts = type(serializer).__qualname__.split(".")
        return "".join(part.removesuffix("Serializer").removesuffix("Api") for part in parts)

    def _get_response_bodies(self, direction="response"):
        bodies = super()._get_response_bodies(direction)
        for code, description in self._error_statuses():
            if code not in bodies:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                bodies[code] = {**response, "description": description}
        return bodies

    def _error_statuses(self) -> list[tuple[str, str]]:
        statuses = [("400", "Invalid request: `errors` names each field and problem.")]
        if not self._allows_anonymous():
            statuses += [("401", "Not authenticated."), ("403", "Not allowed.")]
        if "{" in self.path:
            statuses.append(("404", "No such object (or not yours)."))
        if self.method in ("POST", "PUT", "PATCH"):
            statuses.append(("415", "Unsupported media type: send JSON or multipart/form-data."))
        statuses.append(("429", "Throttled: wait and retry."))
        return statuses

    def _allows_anonymous(self) -> bool:
        return any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
