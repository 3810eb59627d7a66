"""The one ASGI application: HTTP (Django) and websockets (Channels). Served by gunicorn with uvicorn workers
(imagesearch/gunicorn.py); each worker process loads and warms the CLIP encoder once, as it starts."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesearch.settings")

from django.conf import settings

from imagesearch.concurrency import bounded_asgi_application

django_application = bounded_asgi_application(settings.WEB_REQUESTS_PER_WORKER)

from channels.auth import AuthMiddlewareStack  # noqa: E402  (these need Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from imagesearch.embedded import start_embedded_services  # noqa: E402
from search.encoder import preload_encoder  # noqa: E402
from search.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

start_embedded_services()
if settings.PRELOAD_ENCODER:
    preload_encoder()
