#!/usr/bin/env bash
# Installs the CRM the bottlecrm plugin's live tests run (silta_test_peers::Crm):
# django-crm 0.9.0 (MicroPyramid BottleCRM) in its own Python venv, and once a migrated
# SQLite template database with the admin user, which every test instance copies.
#
#   $SILTA_PEERS_CACHE (default /var/cache/silta-peers)/crm-venv       the venv
#   $SILTA_PEERS_CACHE (default /var/cache/silta-peers)/crm-template   crm.sqlite3 + stamp
#
# Idempotent: returns at once, silently, when both match this script's pins and
# templates/crm_settings.py. Safe to run concurrently (flock). Installs Debian's
# python3-venv with apt when python3 cannot make a venv (as root). Needs PyPI.
# What it shares with install-tryton.sh is in venv.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=venv.sh
. "$here/venv.sh"

admin_email=admin@example.test
admin_password=AdminPass123

peer=crm
label="django-crm 0.9.0"
# Its top-level packages are named accounts, common, tasks, teams, crm...: own venv.
# The wheel declares no dependencies and is Django 3.2-era code: these pins were
# worked out by hand (newer Django fails on its imports).
pins=(
    django-crm==0.9.0 Django==3.2.25 djangorestframework==3.12.4
    djangorestframework-jwt==1.11.0 PyJWT==1.7.1 drf-yasg==1.20.0
    django-cors-headers==3.7.0 django-phonenumber-field==5.0.0 phonenumbers
    python-dotenv celery==5.2.7 arrow six sentry-sdk django-ses==1.0.3 "setuptools<70"
)
template_key="$admin_email $admin_password"
template_files=("$here/templates/crm_settings.py")

# Django's migrations, then the administrator.
build_template() {
    local dir=$1
    mkdir "$dir/media"
    # Upstream LOGGING writes ./server.log: run inside the scratch dir.
    (
        cd "$dir"
        export SILTA_CRM_DIR=$dir PYTHONPATH=$here/templates DJANGO_SETTINGS_MODULE=crm_settings
        "$venv/bin/python" -m django migrate --noinput -v 0
        "$venv/bin/python" -m django shell -c "
from common.models import User
user, _ = User.objects.get_or_create(email='$admin_email', defaults=dict(
    username='admin', role='ADMIN', is_admin=True, is_superuser=True, is_staff=True,
    is_active=True, has_sales_access=True, has_marketing_access=True))
user.set_password('$admin_password')
user.save()"
    )
    rm -rf "${dir:?}/server.log" "${dir:?}/media"
}

peer_install
