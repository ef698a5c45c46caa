"""The access model: the access file's format, a user's role and consumers, and the reader it binds."""

import pytest

from core.access import EVERYONE, LOCAL, NOBODY, Access, Reader, load_access, parse_access
from core.errors import ConfigError
from core.settings import load_settings

ACCESS = """
groups_claim = "groups"

[users."Ana@Example.org"]
role = "viewer"
consumers = ["oncology-research"]

[users."sub-finance-1"]
role = "finance"

[groups."neuro-lab"]
role = "viewer"
consumers = ["neuro-genomics", "rare-disease"]

[groups."platform-admins"]
role = "admin"
"""


@pytest.fixture
def access_file():
    return parse_access(ACCESS, "access.toml")


def test_a_viewer_is_matched_by_email_without_case_and_sees_their_consumers(access_file):
    access = access_file.resolve({"is_logged_in": True, "email": "ana@EXAMPLE.org", "sub": "x"})
    assert access.role == "viewer" and access.consumers == ("oncology-research",)
    assert access.reader == Reader(consumers=("oncology-research",), admin=False)
    assert not access.may_close_months and not access.sees_audit and not access.is_admin


def test_an_unverified_email_is_not_trusted(access_file):
    access = access_file.resolve({"email": "ana@example.org", "email_verified": False, "sub": "x"})
    assert not access.known and access.reader == NOBODY


def test_a_subject_matches_exactly_and_finance_sees_every_consumer(access_file):
    finance = access_file.resolve({"sub": "sub-finance-1", "email": "fin@example.org"})
    assert finance.role == "finance" and finance.reader == Reader(consumers=None, admin=False)
    assert finance.may_close_months and finance.sees_audit and not finance.is_admin
    assert not access_file.resolve({"sub": "SUB-FINANCE-1"}).known


def test_groups_combine_and_the_highest_role_wins(access_file):
    viewer = access_file.resolve({"sub": "s", "email": "ana@example.org", "groups": ["neuro-lab", "other"]})
    assert viewer.role == "viewer"
    assert viewer.consumers == ("neuro-genomics", "oncology-research", "rare-disease")
    admin = access_file.resolve({"sub": "s", "email": "ana@example.org", "groups": "platform-admins"})
    assert admin.role == "admin" and admin.reader == EVERYONE and admin.consumers == ()


def test_a_user_the_file_does_not_know_sees_nothing(access_file):
    stranger = access_file.resolve({"sub": "nobody", "email": "eve@example.org", "groups": [{"not": "a group"}]})
    assert not stranger.known and stranger.reader == NOBODY
    assert stranger.reader.params() == {"all_consumers": False, "allowed_consumers": [], "admin": False}


def test_sign_in_off_is_one_local_admin():
    assert LOCAL.reader == EVERYONE and not LOCAL.signed_in


def test_the_reader_binds_its_scope_as_parameters():
    assert EVERYONE.params() == {"all_consumers": True, "allowed_consumers": [], "admin": True}
    viewer = Reader(consumers=["b", "a", "a"], admin=False)
    assert viewer.consumers == ("a", "b") and viewer.sees("a") and not viewer.sees("c") and not viewer.sees(None)
    assert hash(viewer) == hash(Reader(consumers=("a", "b"), admin=False))
    with pytest.raises(ValueError, match="admin reader sees every consumer"):
        Reader(consumers=("a",), admin=True)
    with pytest.raises(TypeError):
        Reader(consumers="oncology-research", admin=False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[users."a@b.c"]\nrole = "owner"', "role must be one of viewer, finance, admin"),
        ('[users."a@b.c"]\nrole = "viewer"', "viewer of no consumer"),
        ('[groups.f]\nrole = "finance"\nconsumers = ["x"]', "sees every consumer: remove its consumers"),
        ('[users."a@b.c"]\nrole = "viewer"\nconsumers = "x"', "must be a list of consumer names"),
        ('[users."a@b.c"]\nrole = "viewer"\nconsumers = ["x"]\nextra = 1', "unknown key 'extra'"),
        ("[roles]\nx = 1", "unknown key 'roles'"),
        ('groups_claim = ""', "groups_claim"),
        ("users = [", "not valid TOML"),
    ],
)
def test_a_wrong_access_file_is_one_line_naming_what_is_wrong(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_access(text, "access.toml")


def test_the_access_file_is_named_by_the_config_relative_to_it(tmp_path):
    (tmp_path / "access.toml").write_text(ACCESS)
    config = tmp_path / "launch-ledger.toml"
    config.write_text('[access]\nfile = "access.toml"\n')
    settings = load_settings(config)
    assert settings.access.file == str(tmp_path / "access.toml")
    assert load_access(settings.access.file).groups_claim == "groups"
    with pytest.raises(ConfigError, match="cannot read the access file"):
        load_access(tmp_path / "missing.toml")


def test_labels_say_who_and_what():
    assert Access("ana@example.org", "viewer", ("a", "b")).label == "ana@example.org · viewer of a, b"
    assert Access("x", None).label == "x · no access"
