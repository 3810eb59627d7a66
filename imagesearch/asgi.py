"""The one ASGI application: HTTP (Django) and websockets (Channels). Loads the CLIP encoder at start-up."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesearch.settings")

django_application = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (these need Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from search.encoder import preload_encoder  # noqa: E402
from search.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

if os.environ.get("IMAGESEARCH_PRELOAD_ENCODER", "1") == "1":
    preload_encoder()
