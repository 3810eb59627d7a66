"""The downloader against a local web: limits, redirects checked hop by hop, and every failure with its reason."""

import pytest

from search.webfetch.download import Downloaded, DownloadFailed, DownloadLimits, download_images
from tests.factories import noise_image_bytes

pytestmark = pytest.mark.usefixtures("background_settings", "caption_requests")


@pytest.fixture
def limits():
    return DownloadLimits(concurrency=4, timeout=1.0, max_bytes=200_000, max_redirects=3, user_agent="test")


def _one(url, limits):
    [result] = download_images([url], limits)
    return result


def test_an_image_downloads(local_web, limits):
    result = _one(local_web.url("/img/1.jpg"), limits)
    assert isinstance(result, Downloaded)
    assert result.data == noise_image_bytes(1)
    assert result.content_type == "image/jpeg"


def test_downloads_run_concurrently_and_keep_their_order(local_web, limits):
    urls = [local_web.url(f"/img/{n}.jpg") for n in range(6)]
    results = download_images(urls, limits)
    assert [r.data for r in results] == [noise_image_bytes(n) for n in range(6)]


def test_a_public_redirect_is_followed(local_web, limits):
    result = _one(local_web.url(f"/redirect?to={local_web.url('/img/2.jpg')}"), limits)
    assert isinstance(result, Downloaded)
    assert result.final_url == local_web.url("/img/2.jpg")


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://10.1.2.3/secret.jpg", "redirect to http://10.1.2.3/secret.jpg: 10.1.2.3 is a private address"),
        ("http://169.254.169.254/latest/", "link-local"),
        ("http://localhost:{port}/img/1.jpg", "localhost (127.0.0.1) is a loopback address"),
        ("http://[::1]:{port}/img/1.jpg", "::1 is a loopback address"),
        ("ftp://example.com/a.jpg", "only http and https"),
        ("http://user:pw@127.0.0.1:{port}/img/1.jpg", "credentials"),
    ],
)
def test_a_redirect_into_a_forbidden_place_is_refused(local_web, limits, target, reason):
    hits_before = local_web.hits["/img/1.jpg"]
    result = _one(local_web.url(f"/redirect?to={target.format(port=local_web.port)}"), limits)
    assert isinstance(result, DownloadFailed)
    assert result.reason.startswith("blocked: ")
    assert reason in result.reason
    assert local_web.hits["/img/1.jpg"] == hits_before  # the forbidden hop was never requested


def test_a_hostname_resolving_to_loopback_is_refused_at_the_first_hop(local_web, limits):
    result = _one(f"http://localhost:{local_web.port}/img/1.jpg", limits)
    assert result == DownloadFailed(f"http://localhost:{local_web.port}/img/1.jpg", result.reason)
    assert "loopback" in result.reason


def test_the_resolver_checks_the_addresses_actually_connected_to(local_web, limits, monkeypatch):
    # Simulate DNS rebinding: the pre-flight check passes, the connection-time resolution finds 127.0.0.1.
    monkeypatch.setattr("search.webfetch.download._check_hop", lambda url, hop: None)
    result = _one(f"http://localhost:{local_web.port}/img/1.jpg", limits)
    assert isinstance(result, DownloadFailed)
    assert "loopback" in result.reason


def test_too_many_redirects(local_web, limits):
    url = local_web.url("/img/3.jpg")
    for _ in range(limits.max_redirects + 1):
        url = local_web.url(f"/redirect?to={url}")
    result = _one(url, limits)
    assert result.reason == "more than 3 redirects"


@pytest.mark.parametrize("path", ["/huge-declared.jpg", "/huge-streamed.jpg"])
def test_a_file_over_the_byte_limit_is_refused(local_web, limits, path):
    result = _one(local_web.url(path), limits)
    assert isinstance(result, DownloadFailed)
    assert "over the limit of 200,000" in result.reason or "more than 200,000 bytes" in result.reason


def test_the_streamed_limit_stops_reading(local_web, limits):
    result = _one(local_web.url("/huge-streamed.jpg"), limits)
    assert result.reason == "more than 200,000 bytes (stopped reading)"


def test_a_slow_response_times_out(local_web, limits):
    result = _one(local_web.url("/slow.jpg"), limits)
    assert result.reason == "timed out after 1 s"


def test_a_page_is_not_an_image(local_web, limits):
    assert _one(local_web.url("/page.html"), limits).reason == "content type text/html is not an image"


def test_a_missing_file(local_web, limits):
    assert _one(local_web.url("/nothing-here.jpg"), limits).reason == "HTTP 404"
