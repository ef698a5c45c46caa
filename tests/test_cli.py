"""One command line: the `launch-ledger` console script and `python -m ingest` are the same dispatch table."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cli import parser
from cli.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[1]


def test_the_console_script_is_declared_and_runs_the_dispatch_table():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"launch-ledger": "cli:main"}
    sub = next(a for a in parser()._actions if a.dest == "command")
    assert list(sub.choices) == [c.name for c in COMMANDS]


def test_python_m_ingest_runs_every_command_of_the_table():
    out = subprocess.run([sys.executable, "-m", "ingest", "--help"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.startswith("usage: python -m ingest")
    for command in COMMANDS:
        assert command.name in out.stdout


def test_a_wrong_option_value_is_one_line_and_exit_one(tmp_path, capsys):
    from ingest.__main__ import main

    assert main(["backtest", "--months", "0", "--data-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == "error: --months must be at least 1\n"


@pytest.mark.parametrize(
    "setting, section",
    [('[cost_explorer]\ntag_key = "team"', "[consumer]"), ('[billing]\nrun_tag = "run"', "[runs]")],
)
def test_a_moved_setting_says_where_it_lives_now(tmp_path, capsys, setting, section):
    from ingest.__main__ import main

    config = tmp_path / "launch-ledger.toml"
    config.write_text(setting + "\n")
    assert main(["price-launches", "--config", str(config), "--data-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    name = setting.strip("[").replace("]\n", ".").split(" =")[0]
    assert err.startswith(f"error: {name} in the config file has moved") and section in err
