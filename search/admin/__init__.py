"""The curators' admin, by domain: images (and near-duplicates), jobs (and the web-fetch page), search sessions.

Importing the package registers every admin class (Django's autodiscovery imports search.admin).
"""

from search.admin import images, jobs, sessions  # noqa: F401
