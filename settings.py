from os import environ

import admin_ext.enable  # noqa: F401  mounts the lineage browser at /lineage in oTree's server

SESSION_CONFIGS = [
    dict(
        name='pd_advice',
        display_name="Prisoner's Dilemma with intergenerational advice",
        app_sequence=['choice'],
        num_demo_participants=2,
        # The lineage store (history_store): which family of sessions this one joins,
        # and whose advice it reads: empty = first generation, 'latest' = the newest
        # non-demo session of the lineage with records, or an earlier session's code.
        lineage='default',
        ancestor_session='',
        doc="""
        Set <b>ancestor_session</b> to <code>latest</code> (or an earlier session's code)
        for every generation after the first. Lineage data: <a href="/lineage/">/lineage/</a>.
        """,
    ),
    dict(
        name='pd_advice_next',
        display_name="Prisoner's Dilemma with intergenerational advice (next generation)",
        app_sequence=['choice'],
        num_demo_participants=2,
        lineage='default',
        ancestor_session='latest',
    ),
]

SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=1.00,
    participation_fee=0.00,
    # The payoff matrix is set in choice.C; a session config may override it with
    # payoff_reward, payoff_temptation, payoff_sucker and payoff_punishment (points).
    doc="",
)

PARTICIPANT_FIELDS = []
SESSION_FIELDS = []

LANGUAGE_CODE = 'en'
REAL_WORLD_CURRENCY_CODE = 'USD'
USE_POINTS = True

ADMIN_USERNAME = 'admin'
# for security, set the admin password in an environment variable
ADMIN_PASSWORD = environ.get('OTREE_ADMIN_PASSWORD')

DEMO_PAGE_INTRO_HTML = """
Intergenerational Prisoner's Dilemma: run a first generation, then the next ones with
<code>ancestor_session = latest</code>. The history is kept in the lineage store.
"""

SECRET_KEY = environ.get('OTREE_SECRET_KEY', '7f1c2a9e40bd')
