from tests.web_fixtures import auth_client, collection, other_user, shape_files, user  # noqa: F401
