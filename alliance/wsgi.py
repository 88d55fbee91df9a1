import os

from django.core.wsgi import get_wsgi_application

from alliance.core.gc_tuning import tune_for_web

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alliance.settings")
application = get_wsgi_application()
tune_for_web()
