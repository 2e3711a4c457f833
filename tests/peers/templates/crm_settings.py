# Settings for django-crm 0.9.0 (BottleCRM) as a test peer: SQLite, loopback only, no
# outbound traffic. The instance's files live in $SILTA_CRM_DIR (database, media);
# $SILTA_CRM_HOST is a host name only this instance accepts, so a test can tell its
# own server from another one that took the port.
import os

from crm.settings import *  # noqa: F401,F403

_DIR = os.environ["SILTA_CRM_DIR"]

# True turns every API error into a multi-hundred-KB HTML debug page.
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", os.environ.get("SILTA_CRM_HOST", "127.0.0.1")]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(_DIR, "crm.sqlite3"),
    }
}
MEDIA_ROOT = os.path.join(_DIR, "media")
# Mail the app sends on synchronous paths stays in the process.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "crm@example.test"
# The app's Celery tasks build their own Celery("redis://") apps and ignore these
# settings; crm_server.py sets CELERY_BROKER_URL=memory:// in the environment.
