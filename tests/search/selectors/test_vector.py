"""Vector search within photo filters (date, camera, location, bounding box): the filters hold, and a filtered
query through the HNSW index still returns k rows (iterative index scans)."""

import datetime as dt

import pytest

from search.errors import InvalidQuery
from search.query import PhotoFilters, SearchScope
from search.selectors.vector import search_by_vector
from search.vector_index import ensure_hnsw_index
from tests.factories import image_row, unit_vector

pytestmark = pytest.mark.django_db

MODEL = "test-photo-filters"
DIM = 32
JUNE = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
# (seed, taken, camera model, position): 300 rows, one in ten taken in June 2024 with a Canon in Paris.
PARIS = (48.8584, 2.2945)
TOKYO = (35.6762, 139.6503)
FIJI = (-17.7134, 178.0650)


@pytest.fixture
def photos():
    ensure_hnsw_index(MODEL, DIM)
    rows = []
    for seed in range(300):
        special = seed % 10 == 0
        place = PARIS if special else (TOKYO if seed % 3 == 0 else (FIJI if seed % 3 == 1 else None))
        rows.append(
            image_row(
                vector=unit_vector(DIM, seed),
                model_key=MODEL,
                taken_at=JUNE + dt.timedelta(days=seed % 10) if special else JUNE - dt.timedelta(days=100 + seed),
                camera_make="Canon" if special else "Apple",
                camera_model="Canon EOS R5" if special else "iPhone 15",
                latitude=place and place[0],
                longitude=place and place[1],
            )
        )
    return rows


def search(photo: PhotoFilters, k: int = 10):
    return search_by_vector(unit_vector(DIM, 1000), scope=SearchScope(top_k=k, photo=photo), model_key=MODEL)


def rows_of(hits, photos):
    by_id = {row.id: row for row in photos}
    return [by_id[hit.id] for hit in hits]


def test_a_date_range_returns_k_photos_all_inside_it(photos):
    photo = PhotoFilters(taken_after=JUNE, taken_before=JUNE + dt.timedelta(days=30))
    found = rows_of(search(photo), photos)
    assert len(found) == 10 and all(JUNE <= row.taken_at <= JUNE + dt.timedelta(days=30) for row in found)


def test_the_camera_filter_matches_part_of_make_or_model_in_any_case(photos):
    assert {row.camera_make for row in rows_of(search(PhotoFilters(camera="eos r5")), photos)} == {"Canon"}
    assert {row.camera_model for row in rows_of(search(PhotoFilters(camera="CANON")), photos)} == {"Canon EOS R5"}


def test_has_location_true_and_false(photos):
    located = rows_of(search(PhotoFilters(has_location=True), k=50), photos)
    unlocated = rows_of(search(PhotoFilters(has_location=False), k=50), photos)
    assert len(located) == 50 and all(row.latitude is not None for row in located)
    assert len(unlocated) == 50 and all(row.latitude is None for row in unlocated)


def test_a_bounding_box_keeps_only_photos_inside_it(photos):
    europe = (35.0, -10.0, 60.0, 30.0)
    found = rows_of(search(PhotoFilters(bbox=europe), k=20), photos)
    assert len(found) == 20 and {(row.latitude, row.longitude) for row in found} == {PARIS}


def test_a_box_across_the_180th_meridian(photos):
    pacific = (-30.0, 170.0, 40.0, -170.0)  # west edge east of the east edge
    found = rows_of(search(PhotoFilters(bbox=pacific), k=30), photos)
    assert len(found) == 30 and {(row.latitude, row.longitude) for row in found} == {FIJI}


def test_filters_combine(photos):
    photo = PhotoFilters(camera="iphone", has_location=True, bbox=(30.0, 130.0, 40.0, 150.0))
    found = rows_of(search(photo, k=15), photos)
    assert len(found) == 15 and all((row.latitude, row.longitude) == TOKYO for row in found)


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"bbox": (10, 0, 5, 1)}, "bbox"),  # south above north
        ({"bbox": (0, 0, 1)}, "bbox"),
        ({"bbox": (0, 0, 100, 1)}, "bbox"),
        ({"bbox": (0, float("nan"), 1, 1)}, "bbox"),
        ({"taken_after": dt.datetime(2024, 1, 1)}, "taken_after"),  # no time zone
        ({"taken_after": JUNE, "taken_before": JUNE - dt.timedelta(days=1)}, "taken_after"),
        ({"camera": "x" * 2000}, "camera"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(arguments, field):
    with pytest.raises(InvalidQuery) as error:
        PhotoFilters(**arguments)
    assert error.value.field == field
