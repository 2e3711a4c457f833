#!/usr/bin/env bash
# Installs the ERP the tryton plugin's live tests run (silta_test_peers::Tryton):
# Tryton 8.2 (trytond + party + sale, and phonenumbers as a real deployment has it)
# in its own Python venv, and once a SQLite template database "silta" with the admin
# user (admin / AdminPass123), the EUR currency and a company the admin belongs to
# (templates/tryton-setup.py), which every test instance copies.
#
#   $SILTA_PEERS_CACHE (default /var/cache/silta-peers)/tryton-venv       the venv
#   $SILTA_PEERS_CACHE (default /var/cache/silta-peers)/tryton-template   silta.sqlite + stamp
#
# Idempotent: returns at once, silently, when both match this script's pins and
# templates/tryton-setup.py. Safe to run concurrently (flock). Installs Debian's
# python3-venv with apt when python3 cannot make a venv (as root). Needs PyPI.
# The first run takes about a minute (pip ~15 s, trytond-admin ~16-45 s).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${SILTA_PEERS_CACHE:-/var/cache/silta-peers}
venv=$cache/tryton-venv
template=$cache/tryton-template
setup=$here/templates/tryton-setup.py

pins=("trytond==8.2.*" "trytond-party==8.2.*" "trytond-sale==8.2.*" "phonenumbers")
database=silta
admin_email=admin@example.test
admin_password=AdminPass123

venv_stamp=$(printf '%s\n' venv-v1 "${pins[@]}" | sha256sum | cut -d' ' -f1)
template_stamp=$({ echo "template-v1 $venv_stamp $database $admin_email $admin_password"; cat "$setup"; } |
    sha256sum | cut -d' ' -f1)

venv_ok() { [ "$(cat "$venv/silta-stamp" 2>/dev/null)" = "$venv_stamp" ]; }
template_ok() { [ "$(cat "$template/stamp" 2>/dev/null)" = "$template_stamp" ]; }

if venv_ok && template_ok; then
    exit 0
fi

if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
    echo "tests/peers/install-tryton.sh: cannot write $cache; run it as root," >&2
    echo "or set SILTA_PEERS_CACHE to a writable directory (also for the tests)" >&2
    exit 1
fi

# One installer at a time; the others wait and then find it done.
exec 9>"$cache/tryton.lock"
flock -w 900 9 || { echo "tests/peers/install-tryton.sh: timed out waiting for $cache/tryton.lock" >&2; exit 1; }
if venv_ok && template_ok; then
    exit 0
fi

# Debian's own python3 when there is one (pyenv shims and the like vary per machine).
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
if [ -z "$python" ] || ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "tests/peers/install-tryton.sh: python3 cannot make a venv; run it as root (it uses apt-get)," >&2
        echo "or install it yourself: apt-get install --no-install-recommends python3-venv" >&2
        exit 1
    fi
    echo "tests/peers/install-tryton.sh: installing python3-venv" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    python=/usr/bin/python3
fi

if ! venv_ok; then
    echo "tests/peers/install-tryton.sh: installing Tryton 8.2 into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "${pins[@]}"
    echo "$venv_stamp" > "$venv/silta-stamp"
fi

echo "tests/peers/install-tryton.sh: creating the template database in $template" >&2
rm -rf "$template" "$template.new"
mkdir -p "$template.new/db"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/trytond.conf" <<EOF
[database]
uri = sqlite://
path = $template.new/db
EOF
printf '%s' "$admin_password" > "$work/admin.pass"
# SQLite: trytond-admin refuses a database file that does not exist yet.
touch "$template.new/db/$database.sqlite"
if ! TRYTONPASSFILE="$work/admin.pass" "$venv/bin/trytond-admin" -c "$work/trytond.conf" -d "$database" \
    --all --email "$admin_email" -u party sale --activate-dependencies > "$work/admin.log" 2>&1 ||
    ! "$venv/bin/python" "$setup" "$work/trytond.conf" "$database" >> "$work/admin.log" 2>&1; then
    tail -n 40 "$work/admin.log" >&2
    echo "tests/peers/install-tryton.sh: creating the template database failed (log above)" >&2
    exit 1
fi
mv "$template.new/db/$database.sqlite" "$template.new/$database.sqlite"
rmdir "$template.new/db"
echo "$template_stamp" > "$template.new/stamp"
mv "$template.new" "$template"
