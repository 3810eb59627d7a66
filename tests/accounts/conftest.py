from tests.web_fixtures import other_user, user  # noqa: F401
