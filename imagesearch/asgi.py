"""The one ASGI application: HTTP (Django) and websockets (Channels). Loads the CLIP encoder at start-up."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesearch.settings")

django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402  (needs Django set up first)

from search.encoder import preload_encoder  # noqa: E402

application = ProtocolTypeRouter({"http": django_application})

if os.environ.get("IMAGESEARCH_PRELOAD_ENCODER", "1") == "1":
    preload_encoder()
