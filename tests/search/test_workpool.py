import pytest

from search.workpool import parallel_map


class Unusable(Exception):
    pass


def _square_unless_odd(number: int) -> int:
    if number % 2:
        raise Unusable(f"{number} is odd")
    return number * number


@pytest.mark.parametrize("threads", [1, 4])
def test_results_keep_their_order_and_chosen_errors_take_their_items_place(settings, threads):
    settings.INGEST_THREADS = threads
    results = parallel_map(_square_unless_odd, list(range(6)), returning=(Unusable,))
    assert [r if isinstance(r, int) else str(r) for r in results] == [0, "1 is odd", 4, "3 is odd", 16, "5 is odd"]


@pytest.mark.parametrize("threads", [1, 4])
def test_other_errors_propagate(settings, threads):
    settings.INGEST_THREADS = threads
    with pytest.raises(Unusable):
        parallel_map(_square_unless_odd, [0, 1, 2])
