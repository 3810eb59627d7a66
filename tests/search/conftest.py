"""Fixture families shared across the search app's tests: users and a small shape collection (web), a local web
and DuckDuckGo stand-in (fetch), tiny captioning and language models (language), API clients and rows (api)."""

from tests.api_fixtures import anon, api, other_api, private_cache, rows, staff, staff_api, stored_image  # noqa: F401
from tests.fetch_fixtures import (  # noqa: F401
    background_settings,
    caption_requests,
    eager,
    fake_search,
    local_web,
)
from tests.language_fixtures import (  # noqa: F401
    captioner,
    language_model,
    scripted,
    tiny_blip_dir,
    tiny_chat_lm_dir,
    tiny_lm_dir,
)
from tests.web_fixtures import auth_client, collection, other_user, shape_files, user  # noqa: F401
