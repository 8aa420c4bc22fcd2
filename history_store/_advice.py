"""Advice text as the store accepts it.

The Choice page's character counter (choice/Choice.html) counts the same way:
CRLF and lone CR become LF, the ends are trimmed of the characters JavaScript's
``String.prototype.trim`` removes, and length is counted in code points.
"""

from __future__ import annotations

from typing import Final

from ._errors import InvalidAdviceError

MAX_ADVICE_LENGTH: Final = 1000

# Exactly the set JavaScript's trim() removes (WhiteSpace + LineTerminator), so the
# browser's counter and the server agree. Python's str.strip() would also remove
# U+001C..U+001F and U+0085, which JavaScript keeps.
TRIMMED_CHARACTERS: Final = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def normalize_advice(text: str) -> str:
    """Line breaks to LF and the ends trimmed: the form in which advice is stored."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip(TRIMMED_CHARACTERS)


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def advice_problem(text: str) -> str | None:
    """Why this (raw) advice cannot be accepted, in words for the participant; None if it can."""
    advice = normalize_advice(text)
    if not advice:
        return "Please write some advice for the next participant."
    if "\x00" in advice:
        return "Your advice contains a character that cannot be stored (NUL). Please remove it."
    if not _encodes_as_utf8(advice):  # lone surrogates: no file format can hold them
        return "Your advice contains an invalid character. Please retype it."
    if len(advice) > MAX_ADVICE_LENGTH:
        return (
            f"Your advice is {len(advice)} characters long; "
            f"please shorten it to at most {MAX_ADVICE_LENGTH}."
        )
    return None


def validate_advice(text: str) -> str:
    """The normalised advice. Raises InvalidAdviceError if it cannot be accepted."""
    problem = advice_problem(text)
    if problem is not None:
        raise InvalidAdviceError(problem)
    return normalize_advice(text)
