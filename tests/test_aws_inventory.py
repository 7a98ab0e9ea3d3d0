"""The aws kind's inventory: what it refuses (inline credentials, bad names and periods),
and that boto3 is imported only when an AWS component is checked."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from opscheck.inventory import InventoryError, parse
from opscheck.suite import load

REPO = Path(__file__).resolve().parents[1]
BASE = """\
[[components]]
name = "td-aws"
kind = "aws"
region = "us-east-1"
endpoint_url = "http://127.0.0.1:5000"
"""


def load_text(tmp_path: Path, extra: str):
    path = tmp_path / "inventory.toml"
    path.write_text(BASE + textwrap.dedent(extra))
    return load(path)


@pytest.mark.parametrize("extra", [
    'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    'secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"',
    'aws_session_token = "IQoJb3JpZ2luX2VjEXAMPLE"',
])
def test_inline_aws_credentials_are_refused_as_secrets(tmp_path, extra):
    key = extra.split(" ")[0]
    with pytest.raises(InventoryError, match=rf"components\[0\]\.{key}: secret written inline; "
                       "the inventory never holds secrets"):
        load_text(tmp_path, extra + "\n")


def test_credentials_in_the_endpoint_url_are_refused(tmp_path):
    text = BASE.replace("http://127.0.0.1:5000", "http://AKIA:wJalrXUt@127.0.0.1:5000")
    with pytest.raises(InventoryError, match=r"endpoint_url: secret written inline"):
        parse(__import__("tomllib").loads(text), tmp_path / "inventory.toml")


@pytest.mark.parametrize(("extra", "message"), [
    ('region = "mars"', "region 'mars' is not an AWS region name; write it like \"us-east-1\""),
    ('endpoint_url = "127.0.0.1:5000"', "endpoint_url '127.0.0.1:5000' is not an http:// or "
     "https:// URL with a host"),
    ('[[components.alarms]]\nalarm = "A"\nprefix = "B"',
     "give exactly one of alarm = \"<name>\" or prefix = \"<start>\""),
    ('[[components.alarms]]\nprefix = ""', "an empty alarm name or prefix selects nothing"),
    ('[[components.metrics]]\nname = "m"\nnamespace = "N"\nmetric = "M"\nperiod = 90\n'
     'critical = 1', "period 90 is not a CloudWatch period; use 1, 5, 10, 30 or a multiple "
     "of 60 seconds"),
    ('[[components.metrics]]\nname = "m"\nnamespace = "N"\nmetric = "M"\nperiod = 3600\n'
     'window = 600\ncritical = 1', "window 600 is shorter than period 3600"),
    ('[[components.metrics]]\nname = "m"\nnamespace = "N"\nmetric = "M"\nperiod = 60',
     "'m' needs warning or critical (or both) to judge it"),
    ('[[components.metrics]]\nname = "m"\nnamespace = "N"\nmetric = "M"\nperiod = 60\n'
     'statistic = "p99"\ncritical = 1', "statistic: input should be 'Average', 'Sum', "
     "'Minimum', 'Maximum' or 'SampleCount'"),
    ('[[components.metrics]]\nname = "m"\nnamespace = "N"\nmetric = "M"\nperiod = 60\n'
     'direction = "below"\nwarning = 50\ncritical = 70', "warning 50 is beyond critical 70"),
    ('[[components.costs]]\nname = "c"\ncritical = 100\n[[components.costs]]\nname = "c"\n'
     'critical = 1', "'c' is listed twice; give each entry a unique name"),
    ('functions = ["a", "a"]', "list each Lambda function once"),
    ('retries = 9', "retries: input should be less than or equal to 5"),
])
def test_bad_aws_inventory_names_the_key_and_the_fix(tmp_path, extra, message):
    text = BASE.replace('region = "us-east-1"\n', "") if extra.startswith("region") else BASE
    if extra.startswith("endpoint_url"):
        text = text.replace('endpoint_url = "http://127.0.0.1:5000"\n', "")
    path = tmp_path / "inventory.toml"
    path.write_text(text + extra + "\n")
    with pytest.raises(InventoryError) as info:
        load(path)
    assert message in str(info.value), str(info.value)
    assert "td-aws" in str(info.value)


def test_boto3_is_imported_only_when_an_aws_component_is_checked():
    code = ("import sys, opscheck.targets.aws, opscheck.fixtures.aws, opscheck.components.aws; "
            "print(sorted(m for m in ('boto3', 'botocore') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    assert out.strip() == "[]"
