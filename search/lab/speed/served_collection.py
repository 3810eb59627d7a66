"""gunicorn's configuration for `loadtest --collection`: the product's own (imagesearch.gunicorn), and each worker's
preloaded encoder then records its vectors under a simulated collection's key, so the served searches look in that
collection (a million rows from `simulate`) as `speed --only breakdown` does in one process. Lab only: nothing
else starts gunicorn with it.
"""

import os

from imagesearch.gunicorn import *  # noqa: F403 (the served configuration, unchanged)


def post_worker_init(worker) -> None:
    # The ASGI application has loaded by now (imagesearch.asgi preloads the encoder on import).
    from search.encoder import get_encoder
    from search.lab.speed.http_load import COLLECTION_VARIABLE

    get_encoder().model_key = os.environ[COLLECTION_VARIABLE]
