"""Celery tasks, one module per kind of work; Celery's autodiscovery imports this package.

Each module below registers its tasks when imported: add a line for a new module.
"""
