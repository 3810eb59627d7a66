from tests.curation_fixtures import collection, curator, curator_client, viewer_client  # noqa: F401
