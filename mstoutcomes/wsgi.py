"""WSGI entry point: `gunicorn mstoutcomes.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mstoutcomes.settings")
application = get_wsgi_application()
