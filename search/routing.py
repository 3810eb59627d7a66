"""Websocket routes (Channels)."""

from django.urls import path

from search.consumers import JobConsumer, SessionConsumer

websocket_urlpatterns: list = [
    path("ws/sessions/<int:session_id>/", SessionConsumer.as_asgi()),
    path("ws/jobs/<int:job_id>/", JobConsumer.as_asgi()),
]
