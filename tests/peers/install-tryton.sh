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
# What it shares with install-crm.sh is in venv.sh.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=venv.sh
. "$here/venv.sh"

database=silta
admin_email=admin@example.test
admin_password=AdminPass123

peer=tryton
label="Tryton 8.2"
pins=("trytond==8.2.*" "trytond-party==8.2.*" "trytond-sale==8.2.*" "phonenumbers")
template_key="$database $admin_email $admin_password"
template_files=("$here/templates/tryton-setup.py")

# trytond-admin makes the database with party and sale; tryton-setup.py adds the
# currency and the company.
build_template() {
    local dir=$1
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir "$dir/db"
    cat > "$work/trytond.conf" <<CONF
[database]
uri = sqlite://
path = $dir/db
CONF
    printf '%s' "$admin_password" > "$work/admin.pass"
    # SQLite: trytond-admin refuses a database file that does not exist yet.
    touch "$dir/db/$database.sqlite"
    if ! TRYTONPASSFILE="$work/admin.pass" "$venv/bin/trytond-admin" -c "$work/trytond.conf" -d "$database" \
        --all --email "$admin_email" -u party sale --activate-dependencies > "$work/admin.log" 2>&1 ||
        ! "$venv/bin/python" "${template_files[0]}" "$work/trytond.conf" "$database" >> "$work/admin.log" 2>&1; then
        tail -n 40 "$work/admin.log" >&2
        echo "$me: creating the template database failed (log above)" >&2
        exit 1
    fi
    mv "$dir/db/$database.sqlite" "$dir/$database.sqlite"
    rmdir "$dir/db"
}

peer_install
