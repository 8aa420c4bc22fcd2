"""The record schema: the Parquet columns other tools rely on (see DESIGN.md)."""

from __future__ import annotations

from typing import Final

import pyarrow as pa

SCHEMA_VERSION: Final = 1

ROW_ROLE: Final = "row"
COLUMN_ROLE: Final = "column"
ROLES: Final = (ROW_ROLE, COLUMN_ROLE)

COOPERATE: Final = "cooperate"
DEFECT: Final = "defect"
CHOICES: Final = (COOPERATE, DEFECT)

UTC_TIMESTAMP: Final = pa.timestamp("us", tz="UTC")

# The contract columns first, in the design's order, then the extras this project adds.
RECORD_SCHEMA: Final = pa.schema(
    [
        pa.field("session_code", pa.string(), nullable=False),
        pa.field("participant_code", pa.string(), nullable=False),
        pa.field("lineage", pa.string(), nullable=False),
        pa.field("generation", pa.int64(), nullable=False),
        pa.field("role", pa.string()),
        pa.field("choice", pa.string()),
        pa.field("advice", pa.string()),
        pa.field("payoff", pa.float64()),
        pa.field("ancestor_session_code", pa.string()),
        pa.field("ancestor_participant_code", pa.string()),
        pa.field("ancestor_advice", pa.string()),
        pa.field("recorded_at", UTC_TIMESTAMP),
        # extras
        pa.field("group_id", pa.int64()),
        pa.field("id_in_group", pa.int64()),
        pa.field("participant_label", pa.string()),
        # every advice the participant was shown: the matched ancestor's (private mode)
        # or all of the ancestor session's same-role advice (public mode), codes joined by ","
        pa.field("shown_advice_codes", pa.string()),
        pa.field("config_name", pa.string()),
        pa.field("completed_at", UTC_TIMESTAMP),
        pa.field("schema_version", pa.int64(), nullable=False),
    ]
)

COLUMNS: Final = tuple(RECORD_SCHEMA.names)

# Fields a journal entry may carry; the rest come from the session's manifest.
SESSION_COLUMNS: Final = ("session_code", "lineage", "generation", "config_name", "schema_version")
ENTRY_FIELDS: Final = tuple(name for name in COLUMNS if name not in SESSION_COLUMNS)
