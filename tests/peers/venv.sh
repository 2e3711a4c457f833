# shellcheck shell=bash disable=SC2154
# (peer, label, pins, template_key and template_files are the sourcing script's.)
# Sourced by install-tryton.sh and install-crm.sh: what installing a Python peer
# shares. Each peer gets, under $SILTA_PEERS_CACHE (default /var/cache/silta-peers):
#
#   <peer>-venv       its own venv with the pinned packages, and silta-stamp
#   <peer>-template   the template database every test instance copies, and stamp
#   <peer>.lock       held while installing: one installer at a time
#
# A stamp is a hash of what its part is made from (the pins; the venv's stamp, the
# template's settings and files), so a change rebuilds exactly what it affects.
# Installs Debian's python3-venv with apt when python3 cannot make a venv (as root).
#
# The sourcing script sets these, then calls peer_install:
#   peer              tryton, crm: the names above
#   label             what is installed, for the one message ("Tryton 8.2")
#   pins              the pip requirements (an array)
#   template_key      the settings the template is made with (names, passwords)
#   template_files    files the template is made from (an array)
#   build_template    a function that fills the empty directory "$1" with the
#                     template database, using "$venv/bin/python"

cache=${SILTA_PEERS_CACHE:-/var/cache/silta-peers}
me=tests/peers/$(basename "$0")

# Installs what is missing or out of date; returns at once, silently, when all is.
peer_install() {
    venv=$cache/$peer-venv
    template=$cache/$peer-template
    venv_stamp=$(printf '%s\n' venv-v1 "${pins[@]}" | sha256sum | cut -d' ' -f1)
    template_stamp=$({ echo "template-v1 $venv_stamp $template_key"; cat "${template_files[@]}"; } |
        sha256sum | cut -d' ' -f1)

    if venv_ok && template_ok; then
        return 0
    fi
    if ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
        echo "$me: cannot write $cache; run it as root," >&2
        echo "or set SILTA_PEERS_CACHE to a writable directory (also for the tests)" >&2
        exit 1
    fi
    # One installer at a time; the others wait and then find it done.
    exec 9>"$cache/$peer.lock"
    flock -w 900 9 || { echo "$me: timed out waiting for $cache/$peer.lock" >&2; exit 1; }
    if venv_ok && template_ok; then
        return 0
    fi

    if ! venv_ok; then
        find_python
        echo "$me: installing $label into $venv" >&2
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install -q --disable-pip-version-check "${pins[@]}"
        echo "$venv_stamp" > "$venv/silta-stamp"
    fi

    echo "$me: creating the template database in $template" >&2
    rm -rf "$template" "$template.new"
    mkdir -p "$template.new"
    build_template "$template.new"
    echo "$template_stamp" > "$template.new/stamp"
    mv "$template.new" "$template"
}

venv_ok() { [ "$(cat "$venv/silta-stamp" 2>/dev/null)" = "$venv_stamp" ]; }
template_ok() { [ "$(cat "$template/stamp" 2>/dev/null)" = "$template_stamp" ]; }

# Sets $python to a python3 that can make a venv: Debian's own when there is one
# (pyenv shims and the like vary per machine); installs python3-venv when needed.
find_python() {
    python=/usr/bin/python3
    [ -x "$python" ] || python=$(command -v python3 || true)
    if [ -z "$python" ] || ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
        if [ "$(id -u)" -ne 0 ]; then
            echo "$me: python3 cannot make a venv; run it as root (it uses apt-get)," >&2
            echo "or install it yourself: apt-get install --no-install-recommends python3-venv" >&2
            exit 1
        fi
        echo "$me: installing python3-venv" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
        python=/usr/bin/python3
    fi
}
