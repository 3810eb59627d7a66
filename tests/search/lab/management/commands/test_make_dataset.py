"""manage.py make_dataset writes a dataset."""

from django.core.management import call_command

from search.lab.datasets.dataset import read_dataset, read_dataset_info


def test_make_benchmark_command_writes_the_dataset(tmp_path):
    call_command("make_dataset", str(tmp_path), train=5, test=3, seed=2, verbosity=0)

    items = read_dataset(tmp_path)
    info = read_dataset_info(tmp_path)

    assert [item.split for item in items].count("test") == 3
    assert all(item.path.is_file() for item in items)
    assert info["seed"] == 2
    assert len(info["held_out_pairs"]) == 6
