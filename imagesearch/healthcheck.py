"""The container's health check (`python -m imagesearch.healthcheck`, the Dockerfile's HEALTHCHECK): GET /api/health/
from this container's web server as the front proxy would ask it, so ALLOWED_HOSTS and the https redirect let it in:
the first allowed host name as Host, and the proxy's https header when SECURE_PROXY_SSL_HEADER names one.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

HEALTH_PATH = "/api/health/"


def health_request(port: int, allowed_hosts: list[str], proxy_ssl_header: tuple[str, str] | None):
    headers = {"Host": next((h.lstrip(".") for h in allowed_hosts if h != "*"), "localhost")}
    if proxy_ssl_header:
        name, value = proxy_ssl_header
        headers[name.removeprefix("HTTP_").replace("_", "-").title()] = value
    return urllib.request.Request(f"http://127.0.0.1:{port}{HEALTH_PATH}", headers=headers)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesearch.settings")
    from django.conf import settings

    request = health_request(settings.WEB_PORT, settings.ALLOWED_HOSTS, settings.SECURE_PROXY_SSL_HEADER)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    print(f"{HEALTH_PATH}: {status}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
