"""The inventory's ``[remediation]`` table: the allow-list, the kill switch and the limits.

```toml
[remediation]
state = "remediation-state.sqlite"      # lock/budget store (SQLite, WAL); default in the
audit = "remediation-audit.jsonl"       # state folder (opscheck.places): /var/lib/opscheck
budget = 3                              # attempts per (component, action) per window

[[remediation.allow]]
component = "wave-redis"
action = "restart_database"
params = { command = "docker restart wave-redis" }
```

Nothing runs that no ``[[remediation.allow]]`` entry names; each entry's ``params`` are
validated against the action's declared parameters when the inventory loads.
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from opscheck.places import state_dir
from opscheck.remediations import (
    SECTIONS,  # noqa: F401 - declared there, for the plugin
    registry,
)


def _in_state(name: str) -> str:
    """A default file of the remediation plugin: in opscheck's state folder, shared by every
    inventory the same user checks (keys are component and action names)."""
    return str(state_dir() / name)


#: kinds whose restart is a database restart (risky); an SQLite file has no server to restart
DATABASE_KINDS = ("redis", "postgres")


class Limits(BaseModel):
    """Per-entry overrides of the table's defaults (unset: the table's value)."""

    model_config = ConfigDict(extra="forbid")

    timeout: float | None = Field(default=None, gt=0, le=3600,
                                  description="seconds an action may run before it is killed")
    budget: int | None = Field(default=None, ge=1, le=100,
                               description="attempts per (component, action) within window")
    window: float | None = Field(default=None, gt=0, description="budget window, seconds")
    backoff: float | None = Field(default=None, ge=0,
                                  description="seconds after an attempt before the next; doubles")
    backoff_max: float | None = Field(default=None, ge=0, description="back-off cap, seconds")
    cooldown: float | None = Field(default=None, ge=0,
                                   description="healthy seconds that close an open circuit")


class Allow(Limits):
    """One ``[[remediation.allow]]`` entry: this action may run for this component."""

    component: str = Field(description="component name, as the checks report it")
    action: str = Field(description="registered action name")
    params: dict[str, Any] = Field(default_factory=dict, description="the action's parameters")
    risky: bool = Field(default=False, description="treat as risky (needs --approve) even if "
                        "the action is not")
    on_unreachable: bool = Field(
        default=False, description="also act when the check could not run (component "
        "unreachable, driver missing, setup error), not only on a confirmed failure of its "
        "condition")
    _validated: Any = PrivateAttr(default=None)

    @field_validator("action")
    @classmethod
    def _known(cls, value: str) -> str:
        try:
            registry.get(value)
        except KeyError as exc:
            raise ValueError(f"{exc.args[0]}; fix the name or install its plugin") from None
        return value

    @model_validator(mode="after")
    def _params(self, info: ValidationInfo) -> Allow:
        spec = registry.get(self.action)
        components = {c.name: c for c in (info.context or {}).get("components", [])}
        context = {**(info.context or {}), "component_name": self.component,
                   "component": components.get(self.component)}
        try:
            self._validated = spec.params.model_validate(self.params, context=context)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            where = ".".join(["params", *(str(p) for p in err["loc"])])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = (f"unknown parameter; {self.action} takes "
                       f"{', '.join(spec.params.model_fields)}")
            elif err["type"] == "missing":
                msg = "required parameter is missing; add it"
            raise ValueError(f"{where}: {msg}") from None
        kinds = {name: c.kind for name, c in components.items()}
        if self.action in ("restart_service", "run_command") and kinds.get(
                self.component) in DATABASE_KINDS:
            raise ValueError(f"{self.component} is a {kinds[self.component]} database: restarting "
                             "it is risky; use action = \"restart_database\" (runs only with "
                             "--approve restart_database)")
        return self

    @property
    def validated(self) -> registry.Params:
        """The parameters as the action's model (paths resolved)."""
        return self._validated


class Remediation(Limits):
    """``[remediation]``: defaults, paths and the allow-list."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    enabled: bool = Field(default=True, description="false is the kill switch: nothing runs")
    state: registry.LocalPath = Field(
        default_factory=lambda: _in_state("remediation-state.sqlite"),
        description="SQLite file of locks, attempts and circuits (default: in the state folder)")
    audit: registry.LocalPath = Field(
        default_factory=lambda: _in_state("remediation-audit.jsonl"),
        description="append-only audit log (default: in the state folder)")
    emergency_stop: registry.LocalPath | None = Field(
        default=None, description="file whose presence vetoes every action "
        "(default: [system].emergency_stop)")
    confirm: int = Field(default=1, ge=1, le=10,
                         description="re-runs of a failed check that must fail before acting")
    confirm_delay: float = Field(default=1.0, ge=0, le=600, description="seconds between re-runs")
    settle: float = Field(default=5.0, ge=0, le=3600,
                          description="seconds after the action before the re-check")
    allow: list[Allow] = Field(default_factory=list)

    @field_validator("emergency_stop", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if value == "" else value  # as the files kind reads it: "" = not set

    @model_validator(mode="after")
    def _defaults(self, info: ValidationInfo) -> Remediation:
        system = (info.context or {}).get("system")
        if self.emergency_stop is None and system is not None and system.emergency_stop:
            try:  # resolved as the files kind resolves it: the veto watches the same file
                self.emergency_stop = registry.local_path(system.emergency_stop, info)
            except ValueError as exc:
                raise ValueError(f"emergency_stop (default: [system].emergency_stop): {exc}") \
                    from None
        seen: set[tuple[str, str]] = set()
        for i, entry in enumerate(self.allow):
            key = (entry.component, entry.action)
            if key in seen:
                raise ValueError(f"allow[{i}]: {entry.component}/{entry.action} is listed twice; "
                                 "keep one entry per component and action")
            seen.add(key)
        return self

    def allowed(self, component: str, action: str) -> Allow | None:
        return next((a for a in self.allow if (a.component, a.action) == (component, action)),
                    None)

    def limit(self, entry: Allow, name: str) -> Any:
        """The entry's value of limit ``name``, else the table's, else the built-in default."""
        for source in (entry, self):
            value = getattr(source, name)
            if value is not None:
                return value
        return DEFAULTS[name]


#: built-in limits: three tries an hour, 5 min back-off doubling to 1 h, one healthy hour
DEFAULTS: dict[str, float] = {"timeout": 60.0, "budget": 3, "window": 3600.0, "backoff": 300.0,
                              "backoff_max": 3600.0, "cooldown": 3600.0}
