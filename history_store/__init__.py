"""history_store: intergenerational history in per-session Parquet files, outside oTree.

Usable from oTree apps, scripts and notebooks alike; imports neither oTree nor Starlette.
"""

from __future__ import annotations

from ._advice import MAX_ADVICE_LENGTH, advice_problem, normalize_advice, validate_advice
from ._backup import BackupReport, RestoreRefusedError, RestoreReport, backup_store, restore_store
from ._errors import (
    AncestorLineageError,
    AncestorRoleMissingError,
    CorruptStoreError,
    HistoryStoreError,
    InvalidAdviceError,
    InvalidNameError,
    InvalidRecordError,
    NoAncestorError,
    SessionExistsError,
    SessionNotFoundError,
    StoreNotWritableError,
)
from ._exclusions import Exclusion
from ._manifest import SessionManifest
from ._matching import AncestorCandidate, match_ancestors
from ._payments import PaymentLine, successor_payments
from ._names import check_lineage_name, check_session_code, is_valid_name
from ._schema import CHOICES, COLUMN_ROLE, COOPERATE, DEFECT, RECORD_SCHEMA, ROLES, ROW_ROLE, SCHEMA_VERSION
from ._status import SessionStatus
from ._transfer import ImportReport, export_lineage, import_file
from ._verify import VerifyReport, verify_store
from ._store import HISTORY_DIR_ENV, HistoryStore, default_root, open_default_store

__all__ = [
    "CHOICES",
    "COLUMN_ROLE",
    "COOPERATE",
    "DEFECT",
    "HISTORY_DIR_ENV",
    "MAX_ADVICE_LENGTH",
    "RECORD_SCHEMA",
    "ROLES",
    "ROW_ROLE",
    "SCHEMA_VERSION",
    "AncestorCandidate",
    "AncestorLineageError",
    "AncestorRoleMissingError",
    "BackupReport",
    "CorruptStoreError",
    "Exclusion",
    "HistoryStore",
    "HistoryStoreError",
    "ImportReport",
    "InvalidAdviceError",
    "InvalidNameError",
    "InvalidRecordError",
    "NoAncestorError",
    "PaymentLine",
    "RestoreRefusedError",
    "RestoreReport",
    "SessionExistsError",
    "SessionManifest",
    "SessionNotFoundError",
    "SessionStatus",
    "StoreNotWritableError",
    "VerifyReport",
    "advice_problem",
    "backup_store",
    "check_lineage_name",
    "check_session_code",
    "default_root",
    "export_lineage",
    "import_file",
    "is_valid_name",
    "match_ancestors",
    "normalize_advice",
    "open_default_store",
    "restore_store",
    "successor_payments",
    "validate_advice",
    "verify_store",
]
