"""One AWS helper: every client has botocore's standard retry mode with a stated number of attempts."""

import re
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from core import aws

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("service", ["dynamodb", "ce", "pricing", "ec2", "glue", "athena", "s3"])
def test_every_client_retries_in_standard_mode_with_the_stated_attempts(service):
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    client = aws.client(service, session=session)
    retries = client.meta.config.retries
    assert retries["mode"] == "standard" == aws.RETRY_MODE
    assert retries["total_max_attempts"] == aws.MAX_ATTEMPTS == 9  # the first try and eight retries, as before
    assert client.meta.config.connect_timeout == aws.CONNECT_TIMEOUT_S


def test_no_module_builds_a_session_or_a_client_on_its_own():
    pattern = re.compile(r"boto3\.Session\(|\bboto3\.client\(|session\.client\(")
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in (".venv", "tests") or path == ROOT / "core" / "aws.py":
            continue
        code = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith(("#", "(`", "``")))
        assert not pattern.search(code), f"{path.relative_to(ROOT)} builds its own boto3 session or client: use core.aws"


def test_an_aws_error_is_one_line_naming_the_operation_and_what_to_do():
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no\nway"}}, "Scan")
    assert aws.error_line(denied) == "Scan AccessDeniedException: no way"
    assert aws.user_message(denied).startswith("access denied for Scan: the IAM policy in README.md")
    assert aws.user_message(ValueError("not AWS")) is None
