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
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${SILTA_PEERS_CACHE:-/var/cache/silta-peers}
venv=$cache/crm-venv
template=$cache/crm-template
settings=$here/templates/crm_settings.py

# The wheel declares no dependencies and is Django 3.2-era code: these pins were
# worked out by hand (newer Django fails on its imports).
pins=(
    django-crm==0.9.0 Django==3.2.25 djangorestframework==3.12.4
    djangorestframework-jwt==1.11.0 PyJWT==1.7.1 drf-yasg==1.20.0
    django-cors-headers==3.7.0 django-phonenumber-field==5.0.0 phonenumbers
    python-dotenv celery==5.2.7 arrow six sentry-sdk django-ses==1.0.3 "setuptools<70"
)
admin_email=admin@example.test
admin_password=AdminPass123

venv_stamp=$(printf '%s\n' venv-v1 "${pins[@]}" | sha256sum | cut -d' ' -f1)
template_stamp=$({ echo "template-v1 $venv_stamp $admin_email $admin_password"; cat "$settings"; } |
    sha256sum | cut -d' ' -f1)

venv_ok() { [ "$(cat "$venv/silta-stamp" 2>/dev/null)" = "$venv_stamp" ]; }
template_ok() { [ "$(cat "$template/stamp" 2>/dev/null)" = "$template_stamp" ]; }

if venv_ok && template_ok; then
    exit 0
fi

if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    echo "tests/peers/install-crm.sh: cannot write $cache; run it as root," >&2
    echo "or set SILTA_PEERS_CACHE to a writable directory (also for the tests)" >&2
    exit 1
fi

# One installer at a time; the others wait and then find it done.
exec 9>"$cache/crm.lock"
flock -w 900 9 || { echo "tests/peers/install-crm.sh: timed out waiting for $cache/crm.lock" >&2; exit 1; }
if venv_ok && template_ok; then
    exit 0
fi

# Debian's own python3 when there is one (pyenv shims and the like vary per machine).
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
if [ -z "$python" ] || ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "tests/peers/install-crm.sh: python3 cannot make a venv; run it as root (it uses apt-get)," >&2
        echo "or install it yourself: apt-get install --no-install-recommends python3-venv" >&2
        exit 1
    fi
    echo "tests/peers/install-crm.sh: installing python3-venv" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    python=/usr/bin/python3
fi

if ! venv_ok; then
    echo "tests/peers/install-crm.sh: installing django-crm 0.9.0 into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # Its top-level packages are named accounts, common, tasks, teams, crm...: own venv.
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${pins[@]}"
    echo "$venv_stamp" > "$venv/silta-stamp"
fi

echo "tests/peers/install-crm.sh: migrating the template database in $template" >&2
rm -rf "$template" "$template.new"
mkdir -p "$template.new/media"
# Upstream LOGGING writes ./server.log: run inside the scratch dir.
(
    cd "$template.new"
    export SILTA_CRM_DIR=$template.new PYTHONPATH=$here/templates DJANGO_SETTINGS_MODULE=crm_settings
    "$venv/bin/python" -m django migrate --noinput -v 0
    "$venv/bin/python" -m django shell -c "
from common.models import User
user, _ = User.objects.get_or_create(email='$admin_email', defaults=dict(
    username='admin', role='ADMIN', is_admin=True, is_superuser=True, is_staff=True,
    is_active=True, has_sales_access=True, has_marketing_access=True))
user.set_password('$admin_password')
user.save()"
)
rm -rf "$template.new/server.log" "$template.new/media"
echo "$template_stamp" > "$template.new/stamp"
mv "$template.new" "$template"
