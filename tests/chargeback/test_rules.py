"""The rules file: what it accepts, what it refuses (in one line), and the shipped default."""

import pytest

from chargeback.rules import DEFAULT_RULES_FILE, load_rules, parse_rules
from core.errors import ChargebackError


def test_the_shipped_rules_parse_and_name_the_three_methods():
    rules = load_rules()
    assert rules.path == str(DEFAULT_RULES_FILE) and rules.tag == "consumer"
    assert {s.method for s in rules.shared} <= {"PROPORTIONAL", "EVEN", "FIXED"}
    assert rules.consumer_of("Oncology-Research") == "oncology-research"
    assert rules.consumer_of("unknown") is None and rules.consumer_of("") is None and rules.consumer_of(None) is None
    assert len(rules.fingerprint) == 64


def test_fingerprint_follows_meaning_not_layout():
    a = parse_rules('[consumer]\ntag = "team"\n[[shared]]\nname = "FSx"\nservices = ["Amazon FSx"]\nrule = "EVEN"\n')
    b = parse_rules(
        '# a comment\n[consumer]\ntag  =  "team"   # the tag\n\n'
        '[[shared]]\nrule = "EVEN"\nname = "FSx"\nservices = "Amazon FSx"\n'
    )
    c = parse_rules('[consumer]\ntag = "team"\n[[shared]]\nname = "FSx"\nservices = ["Amazon FSx"]\nrule = "PROPORTIONAL"\n')
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_a_shared_rule_matches_by_patterns_and_untagged_by_default():
    rules = parse_rules(
        '[[shared]]\nname = "Support"\nservices = ["AWS Support*"]\n[[shared]]\nname = "Platform"\nconsumers = ["platform-*"]\n'
    )
    support, platform = rules.shared
    assert rules.shared_cost_for("AWS Support (Business)", None, None, "Usage", None) is support
    assert rules.shared_cost_for("AWS Support (Business)", None, None, "Usage", "oncology") is None  # tagged: direct
    assert rules.shared_cost_for("Amazon EC2", None, None, "Usage", "platform-team") is platform
    assert support.rule_text == "PROPORTIONAL to each consumer's direct cost this month"


@pytest.mark.parametrize(
    "text, message",
    [
        ('[[shared]]\nname = "x"\nrule = "PROPORTION"\n', r"shared\[0\] \(x\): rule must be PROPORTIONAL, EVEN or FIXED"),
        ('[[shared]]\nname = "x"\nrule = "FIXED"\npercentages = { a = 60, b = 30 }\n', "must add up to 100, not 90"),
        ('[[shared]]\nname = "x"\nrule = "FIXED"\n', "FIXED needs percentages"),
        ('[[shared]]\nname = "x"\nrule = "EVEN"\nbasis = "direct"\n', "basis applies to PROPORTIONAL only"),
        ('[[shared]]\nname = "x"\nbasis = "vibes"\n', "basis must be one of direct, launch_cost"),
        ('[[shared]]\nname = "x"\nservise = ["S3"]\n', "unknown setting 'servise'"),
        ('[[shared]]\nrule = "EVEN"\n', "every shared cost needs a name"),
        ('[[shared]]\nname = "x"\n[[shared]]\nname = "x"\n', "two shared costs are called 'x'"),
        ('[consumer]\naliases = { a = "b", b = "c" }\n', "alias 'a' points at 'b', itself an alias"),
        ('[consumer]\nlaunch_attribute = "owner"\n', "launch_attribute must be one of consumer"),
        ('[bill]\nsources = ["billing-conductor"]\n', "bill.sources lists cur, focus, cost-explorer"),
        ("[allocaton]\n", r"unknown section \[allocaton\]"),
        ("[consumer\n", "is not valid TOML"),
    ],
)
def test_mistakes_are_one_line_errors_naming_the_setting(text, message):
    with pytest.raises(ChargebackError, match=message) as caught:
        parse_rules(text, "rules.toml")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("rules.toml")


def test_a_missing_rules_file_says_where_to_point(tmp_path):
    with pytest.raises(ChargebackError, match=r"cannot read the allocation rules .*nope.toml.*\[allocation\] rules"):
        load_rules(tmp_path / "nope.toml")


def test_the_config_points_at_a_rules_file_relative_to_itself(tmp_path, monkeypatch):
    from chargeback.rules import rules_for
    from core.settings import load_settings

    (tmp_path / "team-rules.toml").write_text('[consumer]\ntag = "cost-centre"\n')
    (tmp_path / "launch-ledger.toml").write_text('[allocation]\nrules = "team-rules.toml"\n')
    monkeypatch.delenv("LAUNCH_LEDGER_CONFIG", raising=False)
    settings = load_settings(tmp_path / "launch-ledger.toml")
    assert settings.allocation.rules == str(tmp_path / "team-rules.toml")
    assert rules_for(settings).tag == "cost-centre"


def test_the_run_tag_is_set_once_in_the_rules_and_the_settings_read_it_there(tmp_path, monkeypatch):
    from core.settings import load_settings

    (tmp_path / "rules.toml").write_text('[runs]\ntag = "pipeline_run"\n')
    (tmp_path / "launch-ledger.toml").write_text('[allocation]\nrules = "rules.toml"\n')
    monkeypatch.delenv("LAUNCH_LEDGER_CONFIG", raising=False)
    settings = load_settings(tmp_path / "launch-ledger.toml")
    rules = load_rules(settings.allocation.rules)
    assert settings.run_tag == rules.run_tag == "pipeline_run"
    assert rules.runs is None  # the tag alone: runs are charged like any charge
    assert load_settings().run_tag == load_rules().run_tag == "unique_run_id"
    # the tag alone does not change what is charged, so it leaves the fingerprint as it was
    assert rules.fingerprint == parse_rules("").fingerprint
    charged = parse_rules('[runs]\ncharge = "split_cost"\ntag = "pipeline_run"\n')
    assert charged.run_tag == "pipeline_run" and charged.fingerprint != parse_rules('[runs]\ncharge = "split_cost"\n').fingerprint


@pytest.mark.parametrize(
    "text, message",
    [
        ('[runs]\nunused = "not_charged"\n', 'runs.unused applies with charge = "split_cost"'),
        ('[runs]\ntag = ""\n', "runs.tag names the run tag on the bill"),
        ('runs = "split_cost"\n', "[runs] is a table"),
    ],
)
def test_a_wrong_runs_section_is_refused_in_one_line(text, message):
    with pytest.raises(ChargebackError, match=message.replace("[", r"\[").replace("]", r"\]")) as caught:
        parse_rules(text)
    assert "\n" not in str(caught.value)
