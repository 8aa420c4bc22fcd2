from html import escape

from otree.api import Bot, SubmissionMustFail, expect

from history_store import MAX_ADVICE_LENGTH, normalize_advice

from . import C, Choice
from .designs import PUBLIC


def advice_for(participant_code: str, case: str) -> str:
    """Advice a later generation can trace back to its writer, with text that tempts bugs."""
    return (
        f"  From {participant_code}: {case} \"always\" & 'never' 🙂 ünïcødé\r\n"
        f"<script>alert('x')</script>\r\nבוא נשתף פעולה\n  "
    )


def expect_shown_escaped(advice: str, html: str):
    # Bots see the page with whitespace collapsed: check line by line.
    for line in advice.split('\n'):
        expect(escape(line.strip()), 'in', html)


class PlayerBot(Bot):
    cases = ['cooperate', 'defect']

    def play_round(self):
        config = self.session.config
        if self.subsession.ancestor_session_code:
            expect(self.player.ancestor_participant_code, '!=', '')
            if config['advice_mode'] == PUBLIC:
                everyone = self.session.vars['public_advice'][self.player.role]
                for item in everyone:
                    expect_shown_escaped(item['advice'], self.html)
                expect(self.player.shown_advice_codes, ','.join(item['code'] for item in everyone))
                expect(f'all {len(everyone)} {self.player.role} players', 'in', self.html)
            else:
                expect_shown_escaped(self.player.ancestor_advice, self.html)
                expect(self.player.shown_advice_codes, self.player.ancestor_participant_code)
            expect('<script>alert', 'not in', self.html)
        else:
            expect('first generation', 'in', self.html)
        if config['show_history'] and self.subsession.ancestor_session_code:
            expect('id="history-table"', 'in', self.html)
            expect(self.html.count('<tr><td>'), self.subsession.generation - 1)
        else:
            expect('id="history-table"', 'not in', self.html)
        if config['successor_weight']:
            expect(f"plus {config['successor_weight']} times the average payoff", 'in', self.html)
        else:
            expect('id="successor-payment"', 'not in', self.html)

        yield SubmissionMustFail(Choice, dict(choice=self.case, advice=''))
        yield SubmissionMustFail(Choice, dict(choice=self.case, advice=' \r\n\t '))
        yield SubmissionMustFail(Choice, dict(choice=self.case, advice='x' * (MAX_ADVICE_LENGTH + 1)))
        yield SubmissionMustFail(Choice, dict(choice=self.case, advice='null\x00byte'))
        yield SubmissionMustFail(Choice, dict(choice='maybe', advice='ok'))

        advice = advice_for(self.participant.code, self.case)
        yield Choice, dict(choice=self.case, advice=advice)
        expect(self.player.advice, normalize_advice(advice))
        expect(self.player.history_recorded, True)

        other = self.player.get_others_in_group()[0]
        expect(other.choice, self.case)  # both bots of a session play the same case
        expect(self.player.payoff, C.PAYOFF_REWARD if self.case == 'cooperate' else C.PAYOFF_PUNISHMENT)
        # Results is the last page (no button to press); the bot ends on it.
