"""Lab commands work in the lab's own database: an evaluation indexes its images there, never in the app's."""

import psycopg
import pytest
from django.db import connection

from search.models import Image
from tests.factories import command_output

pytestmark = pytest.mark.django_db(transaction=True)  # the command reconnects, so no test transaction may wrap it


@pytest.fixture
def lab_database(settings):
    name = f"{connection.settings_dict['NAME']}_labtest"
    settings.LAB_DATABASE = name
    yield name
    database = settings.DATABASES["default"]
    with psycopg.connect(host=database["HOST"], user=database["USER"], dbname="postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _images_in(database_name: str, host: str, user: str) -> int:
    with psycopg.connect(host=host, user=user, dbname=database_name) as lab:
        return lab.execute("SELECT count(*) FROM search_image").fetchone()[0]


def test_an_evaluation_indexes_its_dataset_into_the_lab_database(dataset, lab_database, settings):
    output = command_output("evaluate", str(dataset), "--rows", "exact")
    assert "exact" in output
    assert Image.objects.count() == 0  # the app's (here: the test's) collection is untouched
    assert connection.settings_dict["NAME"] != lab_database  # and the connection is back on it
    database = settings.DATABASES["default"]
    assert _images_in(lab_database, database["HOST"], database["USER"]) == 4


def test_app_database_keeps_a_command_in_the_apps_database(dataset, lab_database):
    command_output("evaluate", str(dataset), "--rows", "exact", "--app-database")
    assert Image.objects.count() == 4
