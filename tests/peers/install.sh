#!/usr/bin/env bash
# Installs the real mail servers the tests run (silta-test-peers): Dovecot IMAP and
# Postfix, plus openssl for the per-instance self-signed certificate, and the system
# user `vmail` that owns the test Maildirs. Idempotent: returns at once when all is there.
# Never lets Debian start its own daemons (policy-rc.d), never writes /etc/postfix.
set -euo pipefail

packages=(dovecot-core dovecot-imapd postfix openssl)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ] && id vmail >/dev/null 2>&1; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "tests/peers/install.sh: missing ${missing[*]:-user vmail}; run it as root (it uses apt-get and useradd)," >&2
    echo "or install them yourself: apt-get install --no-install-recommends ${packages[*]}" >&2
    exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
    echo "tests/peers/install.sh: installing ${missing[*]}" >&2
    # Keep the packages' init scripts from starting system-wide daemons on 0.0.0.0.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
    fi
    # "No configuration": no /etc/postfix/main.cf, no questions.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! id vmail >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin vmail
fi
