import pytest

from search import encoder as encoder_module
from search.encoder import ClipEncoder
from search.lab.speed import endtoend
from search.lab.speed.synthetic import VectorSpace, simulate_images

pytestmark = pytest.mark.django_db(transaction=True)  # throughput threads need committed rows


@pytest.fixture
def bench_encoder(encoder):
    bench = ClipEncoder(encoder.model_name, encoder.pretrained, text_cache_size=64)
    bench.model_key = "simulated:e2e-test"
    simulate_images(VectorSpace(dim=bench.dim, clusters=3), count=60, model_key=bench.model_key)
    return bench


def test_module_and_api_paths_answer_and_the_second_pass_hits_the_caches(bench_encoder):
    texts = endtoend.query_texts(3, salt="t")
    with endtoend.serving(bench_encoder):
        module = endtoend.miss_and_hit(endtoend.module_search(bench_encoder), bench_encoder, texts)
        lru_hits = bench_encoder.text_cache.hits
        api = endtoend.miss_and_hit(endtoend.api_search(), bench_encoder, endtoend.query_texts(3, salt="api"))
    assert module["hit"]["n"] == api["miss"]["n"] == api["hit"]["n"] == 3
    assert lru_hits == 3  # the second pass of the module path never ran the text encoder
    assert encoder_module.process_encoder.loaded is not bench_encoder  # serving() gave the process's encoder back


def test_throughput_with_concurrent_clients(bench_encoder):
    with endtoend.serving(bench_encoder):
        rate = endtoend.throughput(endtoend.api_search(), endtoend.query_texts(8, salt="tp"), clients=4)
    assert rate > 0
