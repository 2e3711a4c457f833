# Starts django-crm 0.9.0 (BottleCRM) on 127.0.0.1:<port> (Django's dev server, one
# process, no autoreload). Usage: crm_server.py PORT, with SILTA_CRM_DIR set.
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_settings")
# Notification e-mails are queued in memory and never run: no broker, no worker.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

port = sys.argv[1]
# Upstream views read settings.Domain, which Django never loads (not UPPERCASE):
# without this every create fails with AttributeError after saving.
settings.Domain = "127.0.0.1:" + port

from django.core.management import execute_from_command_line  # noqa: E402

execute_from_command_line([sys.argv[0], "runserver", "127.0.0.1:" + port, "--noreload"])
