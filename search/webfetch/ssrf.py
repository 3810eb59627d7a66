"""The SSRF guard: which URLs the fetcher may request, checked before every request and every redirect hop.

Only http and https, no credentials in the URL, and every address the host resolves to must be a public one:
loopback, private (RFC 1918, unique-local), link-local (169.254.0.0/16 with the cloud metadata address, fe80::/10),
shared (100.64.0.0/10), site-local (fec0::/10), multicast, reserved and unspecified addresses are refused. An IPv6
address that carries an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo, ISATAP) is judged by every
IPv4 address inside it too, since a relay or translator would deliver it there. The downloader's resolver applies the
same check to the addresses it actually connects to, so a DNS answer that changes between the check and the request
gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

ALLOWED_SCHEMES = frozenset({"http", "https"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: local-use translation prefix
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d
_ISATAP_IDS = frozenset({0x00005EFE, 0x02005EFE})  # interface id <0000|0200>:5efe:a.b.c.d (RFC 5214)
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedURL(ValueError):
    """The URL may not be fetched; str(error) says why."""


def check_url(url: str) -> str:
    """Check scheme, credentials and host of `url`, resolve the host and check every address; return the host."""
    host = url_host(url)
    if not host_is_exempt(host):
        check_addresses(host, resolve(host))
    return host


def url_host(url: str) -> str:
    """The URL's host after the checks that need no DNS: scheme, credentials, a host at all."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as error:
        raise BlockedURL(f"malformed URL: {error}") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise BlockedURL(f"only http and https URLs are fetched, not {parts.scheme or 'a relative URL'}")
    if parts.username is not None or parts.password is not None:
        raise BlockedURL("URLs with credentials are not fetched")
    if not parts.hostname:
        raise BlockedURL("the URL has no host")
    return parts.hostname


def host_is_exempt(host: str) -> bool:
    return host.lower() in {name.lower() for name in settings.WEB_FETCH_ALLOWED_HOSTS}


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise BlockedURL(f"cannot resolve {host}: {error}") from None
    return sorted({info[4][0] for info in infos})


def check_addresses(host: str, addresses: list[str]) -> None:
    if not addresses:
        raise BlockedURL(f"{host} resolves to no address")
    for address in addresses:
        reason = blocked_reason(ipaddress.ip_address(address.split("%", 1)[0]))
        if reason:
            shown = host if host == address else f"{host} ({address})"
            raise BlockedURL(f"{shown} is a {reason} address")


def blocked_reason(ip: IPAddress) -> str | None:
    """Why `ip` may not be contacted, or None for a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return "private"
        if (translated := translated_ipv4(ip)) is not None:
            return blocked_reason(translated)  # the packet goes to the IPv4 address, not to an IPv6 host
        for tunnelled in tunnelled_ipv4(ip):
            if reason := blocked_reason(tunnelled):
                return reason
    checks = [
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("site-local", getattr(ip, "is_site_local", False)),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
    ]
    for name, hit in checks:
        if hit:
            return name
    return None if ip.is_global else "non-public"


def translated_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, IPv4-compatible or NAT64 address stands for."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def tunnelled_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a 6to4, Teredo or ISATAP relay would forward packets for this address to."""
    found = [ip.sixtofour, *(ip.teredo or ())]
    if (int(ip) >> 32) & 0xFFFFFFFF in _ISATAP_IDS:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return [address for address in found if address is not None]
