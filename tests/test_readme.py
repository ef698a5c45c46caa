"""The README is the user's manual: it must keep up with the schema and the CLI."""

import json
import re
from pathlib import Path

from cli import parser as _parser
from warehouse.store import schema_columns

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_warehouse_column_is_documented():
    for table, columns in schema_columns().items():
        section = README.split(f"#### `{table}`", 1)[1].split("####", 1)[0]
        documented = re.findall(r"^\| `(\w+)` \| (\S+) \|", section, re.M)
        assert documented == [(c, t) for c, t in columns], f"README table for {table} is out of date"


def test_every_command_is_documented():
    sub = next(a for a in _parser()._actions if a.dest == "command")
    for command in sub.choices:
        assert f"| `{command}" in README, f"README does not describe `ingest {command}`"


def test_iam_policy_is_valid_json_and_matches_the_file():
    block = README.split("```json", 1)[1].split("```", 1)[0]
    policy = json.loads(block)
    assert policy == json.loads((Path(__file__).parents[1] / "docs" / "iam-policy.json").read_text())


def test_readme_leads_with_the_two_commands():
    first_block = README.split("```sh", 1)[1].split("```", 1)[0]
    assert "make run" in first_block and "make test" in first_block


def test_the_layout_section_names_every_package_and_folder():
    section = README.split("## Layout", 1)[1].split("```", 2)[1]
    named = {line.split("/", 1)[0] for line in section.splitlines() if line.strip()}
    root = Path(__file__).parents[1]
    packages = {p.parent.name for p in root.glob("*/__init__.py")}
    assert packages | {"tests", "docs"} <= named, "README's Layout section is missing a package"
    assert named <= {p.name for p in root.iterdir() if p.is_dir()}, "README's Layout names a folder that is not there"
