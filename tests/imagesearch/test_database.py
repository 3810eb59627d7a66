import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection as default_connection
from django.db.utils import ConnectionHandler

from imagesearch.database import parse_database_url, require_vector_extension

# Debian's PostgreSQL on this machine (and in CI) has no pgvector: a real server without the extension.
PLAIN_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def test_parses_a_database_url():
    settings = parse_database_url("postgres://me:s%40cret@db.example:6543/images?sslmode=require")
    assert (settings["NAME"], settings["USER"], settings["PASSWORD"]) == ("images", "me", "s@cret")
    assert (settings["HOST"], settings["PORT"], settings["OPTIONS"]) == ("db.example", "6543", {"sslmode": "require"})


def test_socket_directory_in_query_becomes_the_host():
    assert parse_database_url("postgresql://postgres@/imagesearch?host=/tmp/pg")["HOST"] == "/tmp/pg"


@pytest.mark.parametrize("url", ["mysql://x@y/z", "postgres://x@y/"])
def test_refuses_unusable_urls(url):
    with pytest.raises(ImproperlyConfigured):
        parse_database_url(url)


@pytest.mark.django_db
def test_embedded_server_has_the_vector_extension():
    require_vector_extension(default_connection)
    with default_connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        assert cursor.fetchone() is not None


def test_server_without_pgvector_stops_with_a_clear_message(django_db_blocker):
    try:
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2).close()
    except psycopg.OperationalError:
        pytest.skip("no plain PostgreSQL on 127.0.0.1:5432 to play a server without pgvector")
    wrapper = ConnectionHandler({"default": parse_database_url(PLAIN_POSTGRES_URL)})["default"]
    with django_db_blocker.unblock():
        _assert_refused_with_message(wrapper)


def _assert_refused_with_message(wrapper):
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            if cursor.fetchone() is not None:
                pytest.skip("this PostgreSQL on 127.0.0.1:5432 has pgvector installed")
        with pytest.raises(ImproperlyConfigured, match=r"has no 'vector' extension .*Install pgvector"):
            require_vector_extension(wrapper)
    finally:
        wrapper.close()
