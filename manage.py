#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagesearch.settings")
    from django.core.management import execute_from_command_line

    from imagesearch.embedded import start_embedded_services

    start_embedded_services()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
