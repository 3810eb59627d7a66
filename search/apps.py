from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Image search"

    def ready(self) -> None:
        # Every process registers the Celery tasks, so services can queue them by name (search.background).
        import search.checks
        import search.tasks  # noqa: F401
