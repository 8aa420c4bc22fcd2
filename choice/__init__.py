from datetime import datetime

from otree.api import *

from history_store import (
    COLUMN_ROLE,
    COOPERATE,
    DEFECT,
    MAX_ADVICE_LENGTH,
    RECORD_SCHEMA,
    ROW_ROLE,
    HistoryStoreError,
    advice_problem,
    match_ancestors,
    normalize_advice,
)

from . import designs, lineage

doc = """
Prisoner's Dilemma with intergenerational advice: each participant reads the advice
of a same-role participant of an earlier (ancestor) session, chooses, and writes
advice for the next generation. The history lives in the lineage store (history_store).
"""


class C(BaseConstants):
    NAME_IN_URL = 'choice'
    PLAYERS_PER_GROUP = 2
    NUM_ROUNDS = 1
    ROW_ROLE = ROW_ROLE
    COLUMN_ROLE = COLUMN_ROLE
    # The payoff matrix, in points, in the usual PD names; each can be overridden
    # by a session config key of the same name in lower case (e.g. payoff_temptation).
    PAYOFF_REWARD = 3  # both cooperate
    PAYOFF_TEMPTATION = 5  # you defect, the other cooperates
    PAYOFF_SUCKER = 0  # you cooperate, the other defects
    PAYOFF_PUNISHMENT = 1  # both defect
    MAX_ADVICE_LENGTH = MAX_ADVICE_LENGTH


class Subsession(BaseSubsession):
    lineage = models.StringField()
    generation = models.IntegerField()
    ancestor_session_code = models.StringField(blank=True, initial='')


class Group(BaseGroup):
    payoffs_set = models.BooleanField(initial=False)


class Player(BasePlayer):
    choice = models.StringField(
        choices=[[COOPERATE, 'Cooperate'], [DEFECT, 'Defect']],
        widget=widgets.RadioSelect,
        label='Your choice',
    )
    advice = models.LongStringField(
        label='Your advice for the participant in your role in the next session'
    )
    ancestor_participant_code = models.StringField(blank=True, initial='')
    ancestor_advice = models.LongStringField(blank=True, initial='')
    recorded_at = models.StringField(blank=True, initial='')
    # participant codes of every advice shown (one in private mode, all of the role in public)
    shown_advice_codes = models.StringField(blank=True, initial='')
    # False while the lineage store lacks what this row holds (oTree's rows are the outbox).
    history_recorded = models.BooleanField(initial=False)


# FUNCTIONS
def payoff_matrix(session) -> dict:
    """(own choice, other's choice) -> own payoff, from C or the session config."""
    config = session.config
    points = {
        name: config.get(f'payoff_{name}', getattr(C, f'PAYOFF_{name.upper()}'))
        for name in ('reward', 'temptation', 'sucker', 'punishment')
    }
    return {
        (COOPERATE, COOPERATE): points['reward'],
        (COOPERATE, DEFECT): points['sucker'],
        (DEFECT, COOPERATE): points['temptation'],
        (DEFECT, DEFECT): points['punishment'],
    }


def creating_session(subsession: Subsession):
    session = subsession.session
    # Validate and read everything before grouping: oTree commits inside group_randomly().
    design = designs.read_design(session.config)
    plan = lineage.plan_generation(session.config)
    history = None
    if design.show_history and plan.ancestor:
        history = designs.load_history(lineage.get_store(), plan.ancestor)
    subsession.group_randomly()
    subsession.lineage = plan.lineage
    subsession.generation = plan.generation
    subsession.ancestor_session_code = plan.ancestor.session_code if plan.ancestor else ''

    players = subsession.get_players()
    roles = {p.participant.code: p.role for p in players}
    matched = match_ancestors(roles, plan.candidates, plan.matching_seed) if plan.ancestor else {}
    public = designs.public_advice(plan.candidates)
    if design.advice_mode == designs.PUBLIC:
        session.vars['public_advice'] = public
    if history:
        session.vars['history_generations'] = history.generations
    for p in players:
        ancestor = matched.get(p.participant.code)
        if ancestor:
            p.ancestor_participant_code = ancestor.participant_code
            p.ancestor_advice = ancestor.advice
            shown = [a['code'] for a in public[p.role]] if design.advice_mode == designs.PUBLIC else [ancestor.participant_code]
            p.shown_advice_codes = ','.join(shown)
        if history:
            p.participant.vars['ancestor_trail'] = history.trail(p.ancestor_participant_code)
    assignment = {
        code: dict(role=role, ancestor_participant_code=matched[code].participant_code if code in matched else None)
        for code, role in roles.items()
    }
    lineage.register_generation(session, plan, assignment)


def history_entry(player: Player) -> dict:
    """The player's record as far as it is known: choice and advice, then the payoff."""
    subsession = player.subsession
    entry = dict(
        participant_code=player.participant.code,
        role=player.role,
        choice=player.choice,
        advice=player.advice,
        ancestor_session_code=subsession.ancestor_session_code or None,
        ancestor_participant_code=player.ancestor_participant_code or None,
        ancestor_advice=player.ancestor_advice or None,
        group_id=player.group.id_in_subsession,
        id_in_group=player.id_in_group,
        participant_label=player.participant.label,
        shown_advice_codes=player.shown_advice_codes or None,
        recorded_at=datetime.fromisoformat(player.recorded_at),
    )
    if player.group.payoffs_set:
        entry['payoff'] = float(player.payoff)
    return entry


def advice_error_message(player: Player, value):
    # oTree does not enforce LongStringField's max_length: the store's rule decides.
    return advice_problem(value)


def made_choice(player: Player) -> bool:
    """False for a participant the experimenter advanced past Choice (a dropout)."""
    return player.field_maybe_none('choice') in (COOPERATE, DEFECT)


def save_history(players):
    players = [p for p in players if made_choice(p)]  # a dropout leaves no record
    return bool(players) and lineage.save_history(players[0].session.code, players, history_entry)


def set_payoffs(group: Group):
    matrix = payoff_matrix(group.session)
    row = group.get_player_by_role(C.ROW_ROLE)
    column = group.get_player_by_role(C.COLUMN_ROLE)
    for player, other in ((row, column), (column, row)):
        # A participant advanced past Choice by the experimenter earns nothing; their
        # partner is paid as if they had defected.
        own_choice = player.field_maybe_none('choice')
        other_choice = other.choice if made_choice(other) else DEFECT
        player.payoff = matrix[(own_choice, other_choice)] if made_choice(player) else 0
    group.payoffs_set = True
    # Both completions in one lock and one fsync; off-request snapshot once all are in.
    if save_history([row, column]):
        lineage.get_store().schedule_snapshot(group.session.code)


def vars_for_admin_report(subsession: Subsession):
    """oTree's session admin: where this session sits in its lineage. Opening it is also
    the experimenter's way to write records the store missed (after a disk problem)."""
    session = subsession.session
    players = subsession.get_players()
    pending = [p for p in players if p.field_maybe_none('choice') and not p.history_recorded]
    flushed = bool(pending) and save_history(pending)
    return dict(
        lineage=subsession.field_maybe_none('lineage'),
        generation=subsession.field_maybe_none('generation'),
        ancestor_session_code=subsession.field_maybe_none('ancestor_session_code'),
        num_recorded=sum(1 for p in players if p.history_recorded),
        num_unrecorded=0 if flushed else len(pending),
        num_flushed=len(pending) if flushed else 0,
        num_participants=len(players),
        lineage_url=f'/lineage/sessions/{session.code}',
    )


def custom_export(players):
    """oTree's Data page ("choice (custom)"): the lineage records of the sessions still in
    oTree's database, from the store. The full history is at /lineage."""
    yield list(RECORD_SCHEMA.names)
    store = lineage.get_store()
    for code in sorted({p.session.code for p in players}):
        try:
            rows = store.load_session(code).to_pylist()
        except HistoryStoreError as exc:
            lineage.logger.warning("custom_export: session %s skipped: %s", code, exc)
            continue
        for row in rows:
            yield [row[name] for name in RECORD_SCHEMA.names]


# PAGES
class Choice(Page):
    form_model = 'player'
    form_fields = ['choice', 'advice']

    @staticmethod
    def vars_for_template(player: Player):
        matrix = payoff_matrix(player.session)
        rows = [
            dict(
                own_choice=own,
                cells=[
                    dict(other_choice=other, own=matrix[(own, other)], other=matrix[(other, own)])
                    for other in (COOPERATE, DEFECT)
                ],
            )
            for own in (COOPERATE, DEFECT)
        ]
        subsession = player.subsession
        design = designs.read_design(player.session.config)
        public = player.session.vars.get('public_advice', {}).get(player.role, [])
        trail = player.participant.vars.get('ancestor_trail', {})
        history_rows = [
            designs.history_row(generation, trail, player.role)
            for generation in player.session.vars.get('history_generations', [])
        ]
        return dict(
            matrix_rows=rows,
            other_role=player.get_others_in_group()[0].role,
            ancestor_generation=subsession.generation - 1,
            has_ancestor=bool(subsession.ancestor_session_code),
            is_public=design.advice_mode == designs.PUBLIC,
            public_advice=public,
            history_rows=history_rows,
            successor_weight=design.successor_weight,
        )

    @staticmethod
    def js_vars(player: Player):
        return dict(max_advice_length=C.MAX_ADVICE_LENGTH)

    @staticmethod
    def before_next_page(player: Player, timeout_happened):
        if timeout_happened:
            return  # advanced by the experimenter: no choice, no advice, never an ancestor
        player.advice = normalize_advice(player.advice)
        player.recorded_at = lineage.utc_now_iso()
        # Durable now, so advice survives even if the partner never arrives.
        save_history([player])


class ResultsWaitPage(WaitPage):
    after_all_players_arrive = set_payoffs


class Results(Page):
    @staticmethod
    def vars_for_template(player: Player):
        if not player.history_recorded and made_choice(player):
            save_history([player])  # the store was unavailable earlier: try again
        other = player.get_others_in_group()[0]
        return dict(other=other)


page_sequence = [Choice, ResultsWaitPage, Results]
