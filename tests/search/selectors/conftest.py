from tests.curation_fixtures import collection  # noqa: F401  (three pictures and their near-copies)
