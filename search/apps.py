from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Image search"

    def ready(self) -> None:
        from search.services.rewrites import on_turn_created
        from search.services.sessions import turn_created

        # Language work (LLM rewrite, query-image caption) is queued once a turn commits, after its first results.
        turn_created.connect(on_turn_created, dispatch_uid="search.rewrites.on_turn_created")
