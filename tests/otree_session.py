"""Create one session with session config overrides and play it with the app's bots.

Run by tests/otree_project.py inside an oTree working folder. Unlike `otree test`,
it uses the folder's real database (db.sqlite3 or DATABASE_URL), so `otree resetdb`
between generations is meaningful. Prints one JSON line: {"code": ...} or {"error": ...}.
"""

import json
import os
import sys

sys.path.insert(0, os.getcwd())

from otree.main import setup  # noqa: E402

setup()

from otree.bots.runner import run_bots  # noqa: E402
from otree.database import db  # noqa: E402
from otree.session import CreateSessionInvalidArgs, create_session  # noqa: E402

request = json.loads(sys.argv[1])
try:
    session = create_session(
        request["config"],
        num_participants=request["participants"],
        modified_session_config_fields=request["overrides"],
    )
except CreateSessionInvalidArgs as exc:
    db.rollback()
    print(json.dumps(dict(error=str(exc), type=type(exc).__name__)))
    sys.exit(3)
db.commit()
run_bots(session.id, case_number=request["case"])
db.commit()
print(json.dumps(dict(code=session.code)))
