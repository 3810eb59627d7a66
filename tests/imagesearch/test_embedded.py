"""The entry points' start of the embedded servers: the database's socket folder comes from the running server."""

from imagesearch.embedded import start_embedded_services


def test_starting_again_finds_the_running_servers(settings):
    database = settings.DATABASES["default"]
    host = database["HOST"]
    start_embedded_services()  # already started by the test session: only checked and looked up
    assert database["HOST"] == host and host.endswith("pgdata")


def test_external_servers_are_left_alone(settings):
    settings.EMBEDDED_PGDATA = None
    settings.EMBEDDED_REDIS_DIR = None
    database = settings.DATABASES["default"]
    before = dict(database)
    start_embedded_services()
    assert database == before
