import pytest

from search.lab.speed.synthetic import VectorSpace, build_index, simulate_images
from search.lab.speed.updates import UPDATES, update_costs
from search.models import Image
from search.vector_index import HALFVEC, hnsw_index_name

pytestmark = pytest.mark.django_db

SPACE = VectorSpace(dim=16, clusters=5, seed=3)
KEY = "simulated:updates"


def test_updates_are_timed_rolled_back_and_leave_the_vector_index_alone():
    simulate_images(SPACE, count=300, model_key=KEY)
    build_index(KEY, SPACE.dim, kind=HALFVEC, maintenance_work_mem="64MB")
    costs = update_costs(KEY, rows=300, rounds=2)
    assert [cost.name for cost in costs] == list(UPDATES)
    for cost in costs:
        assert cost.rows == 300 and cost.ms_per_row > 0
        # Every update writes new row versions, so the image table's indexes grow; the vectors' graph does not.
        assert cost.grown and all(name.startswith(("search_image_", "image_")) for name in cost.grown)
        assert hnsw_index_name(KEY, kind=HALFVEC) not in cost.grown
    assert not Image.objects.filter(hidden=True).exists()  # rolled back
    assert not Image.objects.filter(caption="a caption the benchmark wrote").exists()


def test_an_unknown_collection_is_an_error():
    with pytest.raises(ValueError, match="no collection"):
        update_costs("simulated:none")
