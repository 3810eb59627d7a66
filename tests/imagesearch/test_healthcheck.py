"""The container's health check asks /api/health/ as the front proxy would: an allowed host, https when proxied."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from imagesearch import healthcheck


def test_it_asks_as_the_proxy_would_in_production():
    request = healthcheck.health_request(8000, ["images.example.org"], ("HTTP_X_FORWARDED_PROTO", "https"))
    assert request.full_url == "http://127.0.0.1:8000/api/health/"
    assert request.get_header("Host") == "images.example.org"
    assert request.get_header("X-forwarded-proto") == "https"


def test_a_wildcard_or_a_subdomain_pattern_still_gives_a_host_name():
    assert healthcheck.health_request(1, ["*", ".example.org"], None).get_header("Host") == "example.org"
    assert healthcheck.health_request(1, ["*"], None).get_header("Host") == "localhost"


@pytest.fixture
def fake_server():
    """A server on a free port that answers /api/health/ with the status the test sets."""
    answer = {"status": 200, "seen": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            answer["seen"].append((self.path, self.headers["Host"]))
            self.send_response(answer["status"])
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], answer
    server.shutdown()


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_the_exit_code_follows_the_answer(settings, fake_server, status, exit_code):
    port, answer = fake_server
    settings.WEB_PORT, settings.ALLOWED_HOSTS, answer["status"] = port, ["images.example.org"], status
    assert healthcheck.main() == exit_code
    assert answer["seen"] == [("/api/health/", "images.example.org")]


def test_no_server_is_unhealthy(settings):
    from imagesearch.procfile import free_port

    settings.WEB_PORT = free_port()
    assert healthcheck.main() == 1
