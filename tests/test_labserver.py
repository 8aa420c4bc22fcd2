"""The lab-server files shipped in labserver/ parse and name the right commands and
variables; `doctor` says what to fix."""

from __future__ import annotations

import configparser
import subprocess
import sys

import pytest

from labserver.doctor import check_environment, filesystem_type, main
from tests.otree_project import PROJECT_ROOT

LABSERVER = PROJECT_ROOT / "labserver"
VARIABLES = ("OTREE_PRODUCTION", "OTREE_AUTH_LEVEL", "OTREE_ADMIN_PASSWORD", "OTREE_REST_KEY", "DATABASE_URL",
             "OTREE_HISTORY_DIR")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((LABSERVER / name).read_text())
    return parser


def test_the_otree_service_runs_prodserver_with_the_venv_on_path_and_stops_its_worker():
    service = unit("otree-lineage.service")
    assert service["Service"]["ExecStart"].endswith("/.venv/bin/otree prodserver 127.0.0.1:8000")
    assert "/.venv/bin:" in service["Service"]["Environment"]
    assert service["Service"]["KillMode"] == "control-group"
    assert service["Service"]["EnvironmentFile"] == "/etc/otree-lineage.env"
    assert service["Install"]["WantedBy"] == "multi-user.target"


def test_the_nightly_backup_service_and_timer():
    service = unit("history-backup.service")
    assert service["Service"]["Type"] == "oneshot"
    assert "-m history_store backup" in service["Service"]["ExecStart"]
    assert "%%Y-%%m-%%d" in service["Service"]["ExecStart"]  # systemd needs % doubled
    timer = unit("history-backup.timer")
    assert timer["Timer"]["OnCalendar"] == "*-*-* 02:30:00" and timer["Timer"]["Persistent"] == "true"
    cron = (LABSERVER / "history-backup.cron").read_text().splitlines()[-1]
    assert cron.startswith("30 2 * * * ") and "-m history_store backup" in cron and r"\%Y" in cron


def test_the_environment_example_names_every_variable_that_matters():
    example = (LABSERVER / "otree-lineage.env.example").read_text()
    names = {line.split("=")[0] for line in example.splitlines() if line and not line.startswith("#")}
    assert names == set(VARIABLES)


def test_the_nginx_snippet_passes_websockets_to_prodserver():
    conf = (LABSERVER / "nginx-otree.conf").read_text()
    assert "proxy_pass http://127.0.0.1:8000;" in conf and "Upgrade $http_upgrade" in conf
    assert conf.count("{") == conf.count("}")


def test_readme_lab_server_section_names_the_shipped_files_and_variables():
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme[readme.index("## On a lab server"):]
    for name in ("otree-lineage.service", "history-backup.timer", "history-backup.cron", "nginx-otree.conf",
                 "python -m labserver.doctor", "python -m history_store backup", "python -m history_store restore",
                 *VARIABLES):
        assert name in section, name


MOUNTS = """\
sysfs /sys sysfs rw 0 0
/dev/vda / ext4 rw,relatime 0 0
server:/export /srv/shared nfs4 rw 0 0
/dev/vdb /srv/shared/local xfs rw 0 0
"""


@pytest.mark.parametrize("path, expected", [("/var/lib/x", "ext4"), ("/srv/shared/h", "nfs4"),
                                            ("/srv/shared/local/h", "xfs"), ("/srv/shared", "nfs4")])
def test_filesystem_type_finds_the_innermost_mount(path, expected):
    assert filesystem_type(__import__("pathlib").Path(path), MOUNTS) == expected


def test_doctor_says_what_to_fix(tmp_path, capsys):
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS.replace("/srv/shared ", f"{tmp_path} "))
    code = main(env={"OTREE_HISTORY_DIR": str(tmp_path / "history")}, mounts_file=mounts)
    out = capsys.readouterr().out
    assert code == 1
    for needle in ("network file system", "OTREE_ADMIN_PASSWORD is not set", "OTREE_AUTH_LEVEL=STUDY",
                   "OTREE_REST_KEY is not set", "OTREE_PRODUCTION"):
        assert needle in out


def test_doctor_is_happy_with_a_well_set_server(tmp_path):
    env = dict(OTREE_HISTORY_DIR=str(tmp_path / "history"), OTREE_ADMIN_PASSWORD="x", OTREE_AUTH_LEVEL="STUDY",
               OTREE_REST_KEY="k", OTREE_PRODUCTION="1", DATABASE_URL="postgresql://u@h/db")
    assert all(c.ok for c in check_environment(env))
    result = subprocess.run([sys.executable, "-m", "labserver.doctor"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    assert "Ready for a real session." in result.stdout and "PostgreSQL" in result.stdout


def test_doctor_refuses_an_unwritable_store(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(env={"OTREE_HISTORY_DIR": str(tmp_path / "file" / "history")}) == 1
    assert "cannot be written" in capsys.readouterr().out
