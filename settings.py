from os import environ

import admin_ext.enable  # noqa: F401  mounts the lineage browser at /lineage in oTree's server

# Every design is a session config away. For the first generation of a lineage leave
# ancestor_session empty; from the second on set it to 'latest' (or an earlier
# session's code) in the admin's "Configure session" form, or use a *_next config.
SESSION_CONFIGS = [
    dict(
        name='pd_advice',
        display_name="PD with advice: first generation",
        app_sequence=['choice'],
        num_demo_participants=2,
        doc="Each participant reads one matched ancestor's advice (private mode).",
    ),
    dict(
        name='pd_advice_next',
        display_name="PD with advice: next generation (latest)",
        app_sequence=['choice'],
        num_demo_participants=2,
        ancestor_session='latest',
    ),
    dict(
        name='pd_public_advice',
        display_name="PD with public advice (all advice of the role)",
        app_sequence=['choice'],
        num_demo_participants=2,
        lineage='public',
        advice_mode='public',
    ),
    dict(
        name='pd_history',
        display_name="PD with advice and the history of earlier generations",
        app_sequence=['choice'],
        num_demo_participants=2,
        lineage='history',
        show_history=True,
    ),
    dict(
        name='pd_linked_payoff',
        display_name="PD with advice, paid also by the successors' payoffs",
        app_sequence=['choice'],
        num_demo_participants=2,
        lineage='linked',
        successor_weight=0.5,
    ),
]

SESSION_CONFIG_DEFAULTS = dict(
    real_world_currency_per_point=1.00,
    participation_fee=0.00,
    # The lineage store (see README): which family of sessions a session joins and whose
    # advice it reads ('' = first generation, 'latest', or an earlier session's code).
    lineage='default',
    ancestor_session='',
    # The design: 'private' or 'public' advice, the history table, and alpha for
    # successor-linked pay (a float, so the admin form accepts fractions).
    advice_mode='private',
    show_history=False,
    successor_weight=0.0,
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
<code>ancestor_session = latest</code>. Lineages and downloads: <a href="/lineage/">/lineage/</a>.
"""

SECRET_KEY = environ.get('OTREE_SECRET_KEY', '7f1c2a9e40bd')
