"""One-time setup of the Tryton template database for silta-test-peers.

Run by tests/peers/install-tryton.sh with the venv's python, after
trytond-admin created the database:

    python tryton-setup.py <trytond.conf> <database>

A sale needs a company, and Tryton ships no currency: this creates the
EUR currency, a company "Silta Test Co" in EUR, and attaches the admin
user to it, in one transaction. Idempotent: what exists already is left as it is.
"""
import sys
from decimal import Decimal

from trytond import config

config.update_etc(sys.argv[1])

from trytond.pool import Pool  # noqa: E402 (needs the configuration first)
from trytond.transaction import Transaction  # noqa: E402

database = sys.argv[2]
Pool.start()
pool = Pool(database)
pool.init()

with Transaction().start(database, 0, context={}) as transaction:
    Currency = pool.get('currency.currency')
    Company = pool.get('company.company')
    Party = pool.get('party.party')
    User = pool.get('res.user')

    currency, = Currency.search([('code', '=', 'EUR')]) or Currency.create([{
                'name': 'Euro',
                'code': 'EUR',
                'symbol': '\u20ac',
                'rounding': Decimal('0.01'),
                'digits': 2,
                }])
    companies = Company.search([])
    if not companies:
        party, = Party.create([{'name': 'Silta Test Co'}])
        companies = Company.create([{'party': party.id, 'currency': currency.id}])
    company = companies[0]
    admin, = User.search([('login', '=', 'admin')])
    User.write([admin], {
            'companies': [('add', [company.id])],
            'company': company.id,
            })
    transaction.commit()
    print(f'company {company.id} ({currency.code}), admin {admin.id}')
