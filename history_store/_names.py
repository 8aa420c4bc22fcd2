"""Lineage names and session codes become folder names, so both are checked here first."""

from __future__ import annotations

import re
from typing import Final

from ._errors import InvalidNameError

_NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_lineage_name(name: object) -> str:
    """The name if it is a valid lineage name. Raises InvalidNameError otherwise."""
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        raise InvalidNameError(
            f"Invalid lineage name {name!r}: use 1 to 64 letters, digits, '_' or '-'."
        )
    return name


def check_session_code(code: object) -> str:
    """The code if it can name a session folder. Raises InvalidNameError otherwise."""
    if not isinstance(code, str) or not _NAME_PATTERN.fullmatch(code):
        raise InvalidNameError(
            f"Invalid session code {code!r}: a session code is 1 to 64 letters, digits, '_' or '-'."
        )
    return code


def is_valid_name(text: object) -> bool:
    """Whether text is a valid lineage name or session code (same alphabet)."""
    return isinstance(text, str) and _NAME_PATTERN.fullmatch(text) is not None
