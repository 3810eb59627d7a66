"""Settings of the server that the browser tests start: the project's, on the test database (the environment gives
the model, the tests' Redis and the media folder, as it would in production)."""

import os

from imagesearch.settings import *  # noqa: F403
from imagesearch.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["LIVE_TEST_DATABASE"]
DATABASES["default"]["HOST"] = os.environ["LIVE_DATABASE_HOST"]
# Static files straight from static/ (no collectstatic in a test run).
SERVESTATIC_USE_FINDERS = True
