"""Command probes: a command the operator wrote, run on a host, its answer judged.

``[[components.commands]]`` on a host component becomes one check, at the entry's own tier::

    [[components.commands]]
    name = "cli-health"
    run = ["python3", "coding-loops/cli.py", "health"]   # argv: no shell
    cwd = "/srv"                                         # where it runs
    expect_exit = [0]
    stdout_matches = "monitor: healthy"
    tier = "critical"

    [[components.commands]]
    name = "cache-hits"
    run = "journalctl -u litellm --since today | grep -c cache_hit"
    shell = true                                         # pipelines need a shell
    expect_exit = [0, 1]                                 # grep -c exits 1 on a count of 0
    value = "first"                                      # the first number of stdout
    direction = "below"
    critical = 0

A command is the operator's: opscheck runs exactly what the inventory says, within the
component's timeout (or the entry's ``timeout``), its process group killed at the deadline,
its output capped (``max_output``) and redacted where it is shown. What it does to the host
is the command's responsibility, not opscheck's; opscheck itself only reads.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from opscheck import secrets
from opscheck.components import identifier, regex, unset
from opscheck.conditions import JsonCondition, lookup
from opscheck.errors import CheckFailed
from opscheck.shell import IDENTIFIER, Ran
from opscheck.thresholds import Direction, Level, Threshold

Tier = Literal["critical", "standard", "deep"]
NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
#: shell operators: a string holding one needs ``shell = true``
OPERATOR = re.compile(r"^[|&;<>()]+$")
SHOWN = 600  # characters of output shown in a failure line


class Command(BaseModel):
    """One command probe (``[[components.commands]]``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="id of the check within its component")
    run: list[str] | str = Field(description="argv list (run as is, no shell), or a string: "
                                 "split like a shell's, or given to sh -c with shell = true")
    shell: bool = Field(default=False, description="run `run` with sh -c (pipelines, $VARS)")
    cwd: str | None = Field(default=None, description=(
        "working folder on the host (on local://, relative to the inventory's folder; "
        "default: where opscheck runs)"))
    env: dict[str, str] = Field(default_factory=dict, description=(
        "variables for the command, each from a variable of opscheck's environment by name: "
        "{ TOKEN = \"GITHUB_TOKEN\" } (local:// hosts only: values never go on a command line)"))
    timeout: float | None = Field(default=None, gt=0, le=3600, description=(
        "seconds the whole run may take (default: the component's timeout)"))
    max_output: int = Field(default=1_048_576, ge=1, le=64 * 1_048_576, description=(
        "bytes kept of each of stdout and stderr; the rest is read and discarded"))
    expect_exit: list[int] = Field(default_factory=lambda: [0],
                                   description="exit statuses that count as success")
    stdout_matches: str | None = Field(default=None, description="regex stdout must match")
    stdout_not_matches: str | None = Field(default=None, description="regex stdout must not "
                                           "match")
    stderr_matches: str | None = Field(default=None, description="regex stderr must match")
    stderr_not_matches: str | None = Field(default=None, description="regex stderr must not "
                                           "match")
    expect_json: list[JsonCondition] = Field(default_factory=list, description=(
        "conditions on stdout parsed as JSON ([[components.commands.expect_json]], as the "
        "http kind's)"))
    value: str | None = Field(default=None, description=(
        "read a number from stdout: \"first\" (its first number) or a regex with a group "
        "named value, e.g. '\\$(?P<value>[0-9.]+) / '"))
    value_path: str | None = Field(default=None, description="read the number at this dotted "
                                   "path of stdout parsed as JSON")
    warning: Level = None
    critical: Level = None
    direction: Direction = "above"
    unit: str = ""
    tier: Tier = Field(default="standard", description="the check's tier marker")
    description: str = ""
    action: str | None = Field(default=None, description="the runbook's action, shown on "
                               "failure")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return identifier(value, "command name")

    @field_validator("stdout_matches", "stdout_not_matches", "stderr_matches",
                     "stderr_not_matches", "value")
    @classmethod
    def _regex(cls, value: str | None, info: ValidationInfo) -> str | None:
        key = str(info.field_name)
        if key == "value" and value == "first":
            return value
        value = regex(value, key)
        if key == "value" and value is not None \
                and "value" not in re.compile(value).groupindex:
            raise ValueError(f"value {value!r} has no group named value; write \"first\" or "
                             "a regex like 'cost: (?P<value>[0-9.]+)'")
        return value

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for name, var in value.items():
            if not (IDENTIFIER.match(name) and IDENTIFIER.match(var)):
                raise ValueError(f"env {name} = {var!r}: give a variable name for the command "
                                 "and the name of the variable holding its value, e.g. "
                                 "{ TOKEN = \"GITHUB_TOKEN\" }")
            if secrets.resolve(var) is None:
                entry = info.data.get("name", "?")  # validated before env: name it the key
                unset(info, var, f"commands[{entry}].env.{name}")  # reported with the others
        return value

    @model_validator(mode="after")
    def _complete(self) -> Command:
        self.argv_or_script()  # the run is well formed
        if self.value and self.value_path:
            raise ValueError(f"command {self.name!r} sets value and value_path; read the "
                             "number one way")
        reads = bool(self.value or self.value_path)
        levels = self.warning is not None or self.critical is not None
        if reads != levels:
            raise ValueError(f"command {self.name!r}: " + (
                "value/value_path needs warning or critical to judge it" if reads else
                "warning/critical need value = \"first\" (or a regex) or value_path"))
        self.threshold()  # levels in order for the direction
        return self

    def argv_or_script(self) -> str:
        """The sh script that runs the command exactly as written."""
        if self.shell:
            if not isinstance(self.run, str) or not self.run.strip():
                raise ValueError(f"command {self.name!r}: shell = true takes run as one string")
            return self.run
        argv = self.run if isinstance(self.run, list) else _split(self.name, self.run)
        if not argv or not argv[0]:
            raise ValueError(f"command {self.name!r} has an empty run")
        return "exec " + shlex.join(argv)

    @property
    def shown(self) -> str:
        """The command as the operator wrote it, for messages."""
        return self.run if isinstance(self.run, str) else shlex.join(self.run)

    def threshold(self) -> Threshold:
        return Threshold(warning=self.warning, critical=self.critical,
                         direction=self.direction, unit=self.unit, action=self.action)

    def mark_names(self) -> list[str]:
        """The entry's tier, as a marker name: its check runs under ``-m <tier>``."""
        return [self.tier]

    def problems(self, ran: Ran) -> list[str]:
        """What in ``ran`` is not as expected (empty: the answer is good)."""
        found = []
        if ran.exit_status not in self.expect_exit:
            wanted = " or ".join(map(str, self.expect_exit))
            found.append(f"exited {ran.exit_status} (expected {wanted})")
        for stream in ("stdout", "stderr"):
            text = ran.text(stream)
            cut = f" (first {self.max_output} bytes)" if getattr(ran, stream + "_cut") else ""
            must, must_not = getattr(self, stream + "_matches"), getattr(self, stream
                                                                         + "_not_matches")
            if must and not re.search(must, text, re.MULTILINE):
                found.append(f"{stream}{cut} does not match /{must}/")
            hit = re.search(must_not, text, re.MULTILINE) if must_not else None
            if hit:
                found.append(f"{stream} matches /{must_not}/: {_short(hit.group(0))!r}")
        if self.expect_json:
            doc = self.document(ran)
            found += [p for c in self.expect_json if (p := c.problem(doc, "stdout JSON"))]
        return found

    def document(self, ran: Ran) -> Any:
        """stdout parsed as JSON; CheckFailed saying why when it is not JSON."""
        try:
            return json.loads(ran.text("stdout"))
        except ValueError as exc:
            cut = " (cut at max_output)" if ran.stdout_cut else ""
            raise CheckFailed(f"stdout{cut} is not JSON ({exc})") from None

    def number(self, ran: Ran) -> float:
        """The number the entry reads from stdout; CheckFailed saying why there is none."""
        if self.value_path:
            found, value, here = lookup(self.document(ran), self.value_path)
            if not found:
                raise CheckFailed(f"stdout JSON has no {here!r} (value_path {self.value_path})")
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise CheckFailed(f"stdout JSON {self.value_path!r} is {_short(str(value))!r}, "
                                  "not a number")
            text = str(value)
        else:
            text = ran.text("stdout")
            if self.value != "first":
                hit = re.search(str(self.value), text, re.MULTILINE)
                if hit is None:
                    raise CheckFailed(f"stdout does not match value /{self.value}/")
                text = hit.group("value") or ""
        number = NUMBER.search(text.replace(",", ""))
        if number is None:
            raise CheckFailed(f"no number in {_short(text)!r}")
        return float(number.group(0))


def excerpt(ran: Ran) -> str:
    """The end of stdout and stderr, one line each, shortened and redacted, for a failure."""
    parts = []
    for stream in ("stdout", "stderr"):
        text = " ".join(ran.text(stream).split())
        if text:
            more = " [cut]" if getattr(ran, stream + "_cut") else ""
            tail = text if len(text) <= SHOWN else "…" + text[-SHOWN:]
            parts.append(f"{stream}: {tail}{more}")
    return secrets.redact("; ".join(parts) or "no output")


def _split(name: str, text: str) -> list[str]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    tokens = list(lexer)
    if any(OPERATOR.match(t) for t in tokens):
        raise ValueError(f"command {name!r}: {text!r} holds shell operators (| ; & < > ( )); "
                         "set shell = true to run it through sh, or write run as an argv list")
    return shlex.split(text)


def _short(text: str, limit: int = 80) -> str:
    text = secrets.redact(" ".join(text.split()))
    return text if len(text) <= limit else text[:limit - 1] + "…"
