from django.apps import AppConfig


class LabConfig(AppConfig):
    """The research tooling: dataset generation, training, recall evaluation and speed benchmarks, with their
    commands. It has no models; it may import search, never the reverse."""

    name = "search.lab"
    label = "lab"
    verbose_name = "Research lab"
