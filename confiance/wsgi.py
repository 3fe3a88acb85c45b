"""WSGI entry point for gunicorn (and runserver): refuses to start when misconfigured."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confiance.settings")
application = get_wsgi_application()

from confiance.core.startup import refuse_unless_configured  # noqa: E402 - needs settings

refuse_unless_configured()
