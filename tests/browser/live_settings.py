"""Settings of the daphne server that the browser tests start: the project's, on the test database."""

import os

from imagesearch.settings import *  # noqa: F403
from imagesearch.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["LIVE_TEST_DATABASE"]
CLIP_MODEL = os.environ["LIVE_CLIP_MODEL"]
CLIP_PRETRAINED = os.environ["LIVE_CLIP_PRETRAINED"]
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
