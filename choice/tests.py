from html import escape

from otree.api import Bot, SubmissionMustFail, expect

from history_store import MAX_ADVICE_LENGTH, normalize_advice

from . import C, Choice


def advice_for(participant_code: str, case: str) -> str:
    """Advice a later generation can trace back to its writer, with text that tempts bugs."""
    return (
        f"  From {participant_code}: {case} \"always\" & 'never' 🙂 ünïcødé\r\n"
        f"<script>alert('x')</script>\r\nבוא נשתף פעולה\n  "
    )


class PlayerBot(Bot):
    cases = ['cooperate', 'defect']

    def play_round(self):
        if self.subsession.ancestor_session_code:
            expect(self.player.ancestor_participant_code, '!=', '')
            # The ancestor's advice is shown escaped, line by line (bots see collapsed whitespace).
            for line in self.player.ancestor_advice.split('\n'):
                expect(escape(line.strip()), 'in', self.html)
            expect('<script>alert', 'not in', self.html)
        else:
            expect('first generation', 'in', self.html)

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
