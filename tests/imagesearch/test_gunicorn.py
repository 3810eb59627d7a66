"""The web server's configuration: prometheus-client's multiprocess folder, emptied at start, a dead worker dropped."""

from __future__ import annotations

import importlib
import sys

from prometheus_client import CollectorRegistry, Gauge, values
from prometheus_client.multiprocess import MultiProcessCollector


def test_the_metrics_folder_is_emptied_at_start_and_a_dead_workers_gauges_leave(tmp_path, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # setdefault keeps it
    sys.modules.pop("imagesearch.gunicorn", None)
    config = importlib.import_module("imagesearch.gunicorn")
    (tmp_path / "counter_99999.db").write_bytes(b"an earlier run")
    config.on_starting(server=None)
    assert list(tmp_path.iterdir()) == []

    monkeypatch.setattr(values, "ValueClass", values.MultiProcessValue(lambda: 4242))
    Gauge("open_things", "a gauge of a worker", multiprocess_mode="livesum", registry=None).set(3)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(tmp_path))
    assert registry.get_sample_value("open_things") == 3

    config.child_exit(server=None, worker=type("Worker", (), {"pid": 4242})())
    assert registry.get_sample_value("open_things") is None
    assert config.workers >= 2 and config.worker_class == "uvicorn_worker.UvicornWorker"


def test_each_server_has_its_own_control_socket_in_its_var_folder(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # else importing the config sets it for good
    settings.VAR_DIR, settings.WEB_PORT = tmp_path, 8123
    sys.modules.pop("imagesearch.gunicorn", None)
    config = importlib.import_module("imagesearch.gunicorn")
    assert config.control_socket == str(tmp_path / "gunicorn-8123.ctl") and not config.control_socket_disable

    settings.VAR_DIR = tmp_path / ("deep" * 30)  # too long for a Unix socket path: no control socket at all
    sys.modules.pop("imagesearch.gunicorn", None)
    assert importlib.import_module("imagesearch.gunicorn").control_socket_disable
