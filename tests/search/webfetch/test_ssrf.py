"""The SSRF guard: every URL and every address the fetcher may reach."""

import ipaddress
import re

import pytest

from search.webfetch.ssrf import BlockedURL, blocked_reason, check_url


@pytest.fixture(autouse=True)
def no_exempt_hosts(settings):
    settings.WEB_FETCH_ALLOWED_HOSTS = []


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.0.0.1", "private"),
        ("10.255.255.254", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("169.254.0.1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT, shared address space
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("2001:db8::1", "private"),  # documentation range
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::", "link-local"),  # 6to4 of the cloud metadata address
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("fec0::1", "site-local"),
        ("fefe::1", "site-local"),
        ("::7f00:1", "loopback"),  # IPv4-compatible ::127.0.0.1
        ("64:ff9b:1::a00:1", "private"),  # local-use NAT64 prefix
        ("2600::5efe:a00:1", "private"),  # ISATAP interface id carrying 10.0.0.1
        ("2600::200:5efe:a9fe:a9fe", "link-local"),  # ISATAP, universal bit set
        ("2001:0:7f00:1:8000:63bf:3fff:fdd2", "loopback"),  # Teredo whose server is 127.0.0.1
    ],
)
def test_non_public_addresses_are_blocked(address, reason):
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1"]
)
def test_public_addresses_pass(address):
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/a.jpg", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("gopher://127.0.0.1:6379/_INFO", "only http and https"),
        ("//example.com/a.jpg", "only http and https"),
        ("http://user:secret@example.com/a.jpg", "credentials"),
        ("http://user@example.com/a.jpg", "credentials"),
        ("http:///a.jpg", "no host"),
        ("http://example.com:99999/a.jpg", "malformed"),
        ("http://127.0.0.1:8000/a.jpg", "loopback"),
        ("http://localhost/a.jpg", "localhost (127.0.0.1) is a loopback address"),  # a name that resolves to 127.0.0.1
        ("http://[::1]/a.jpg", "loopback"),
        ("http://[::ffff:127.0.0.1]/a.jpg", "loopback"),
        ("http://10.0.0.7/a.jpg", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0x7f.1/a.jpg", "loopback"),  # odd spellings of 127.0.0.1 resolve like any name
        ("http://2130706433/a.jpg", "loopback"),
        ("http://0/a.jpg", "unspecified"),
        ("http://[2002:7f00:1::]/a.jpg", "loopback"),
        ("http://[fec0::1]/a.jpg", "site-local"),
    ],
)
def test_bad_urls_are_blocked(url, message):
    with pytest.raises(BlockedURL, match=re.escape(message)):
        check_url(url)


def test_a_name_that_does_not_resolve_is_blocked():
    with pytest.raises(BlockedURL, match="cannot resolve"):
        check_url("http://no-such-host.invalid/a.jpg")


def test_only_the_exempt_host_as_written_passes(settings):
    settings.WEB_FETCH_ALLOWED_HOSTS = ["127.0.0.1"]
    assert check_url("http://127.0.0.1:8000/a.jpg") == "127.0.0.1"
    with pytest.raises(BlockedURL, match="loopback"):
        check_url("http://localhost:8000/a.jpg")
