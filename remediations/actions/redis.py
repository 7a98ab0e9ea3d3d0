"""Redis: ``BGSAVE``, the runbooks' snapshot before anything risky or after a failed save.

The target defaults to the redis component the action runs for; the client is the redis
kind's own (``fixtures.redis.RedisTarget.make_client``: AUTH, ACL user, no retries; imported
only when the action runs), bounded by the action's timeout. It sends BGSAVE and waits
(bounded by the action's timeout) until the save counter moves and the save reports ``ok``.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from opscheck import secrets
from opscheck.components.redis import RedisComponent
from opscheck.remediations.registry import ActionContext, ActionError, ActionResult, Params, action

#: the connection parameters: the component's, overridden by those given (its credentials
#: only while url is the component's own)
CONNECTION = ("url", "password_env", "username_env")


class BgsaveParams(Params):
    """Default target: the redis component the action runs for (its URL, AUTH, timeout).

    With ``url`` given for another server, the component's credentials are not sent there:
    give ``password_env``/``username_env`` for it.
    """

    url: str = Field(default="", description="redis:// URL, no password (default: the redis "
                     "component's url)")
    password_env: str | None = Field(default=None,
                                     description="environment variable holding the password")
    username_env: str | None = Field(default=None,
                                     description="environment variable holding the ACL user")
    wait: bool = Field(default=True, description="wait for the save to finish")
    _target: RedisComponent | None = PrivateAttr(default=None)

    @field_validator("password_env", "username_env")
    @classmethod
    def _set(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and secrets.resolve(value) is None:
            raise ValueError(f"environment variable {value} is not set; export it or remove "
                             f"{info.field_name}")
        return value

    @model_validator(mode="after")
    def _component_target(self, info: ValidationInfo) -> BgsaveParams:
        component = self.component_of(info, "redis", "url")
        given = {k: getattr(self, k) for k in CONNECTION if k in self.model_fields_set}
        if component is not None and given.get("url", component.url) == component.url:  # type: ignore[attr-defined]
            self._target = component.model_copy(update=given)  # type: ignore[assignment]
        else:
            context = info.context or {}
            name = str(context.get("component_name") or "redis")
            timeout = {"timeout": component.timeout} if component else {}
            try:
                self._target = RedisComponent.model_validate(
                    {"name": "remediation-target", **given, **timeout}, context=context)
            except ValidationError as exc:
                err = exc.errors(include_url=False)[0]
                raise ValueError(f"{name}: {err['msg'].removeprefix('Value error, ')}") \
                    from None
        self.url = self.target.url
        return self

    @property
    def target(self) -> RedisComponent:
        assert self._target is not None
        return self._target


def _saves(client: object, info: dict | None = None) -> object:
    """A value that changes with every completed save: ``rdb_saves`` (Redis 7), else LASTSAVE."""
    info = info if info is not None else client.info("persistence")  # type: ignore[attr-defined]
    return info["rdb_saves"] if "rdb_saves" in info else client.lastsave()  # type: ignore[attr-defined]


def _client(params: BgsaveParams, ctx: ActionContext) -> Any:
    """The redis kind's own client (AUTH, user, no retries), bounded by the action's time."""
    from opscheck.targets.redis import RedisTarget  # lazily: pulls in pytest and redis-py

    target = params.target
    timeout = min(target.timeout or ctx.timeout, max(ctx.remaining(), 0.1))
    return RedisTarget.make_client(target.model_copy(update={"timeout": timeout}))


@action(BgsaveParams, summary="trigger a Redis background save (BGSAVE)")
def redis_bgsave(ctx: ActionContext, params: BgsaveParams) -> ActionResult:
    """BGSAVE, then wait for it to complete."""
    if ctx.plan:
        return ActionResult(True, f"would send BGSAVE to {params.url}")
    import redis

    client = _client(params, ctx)
    try:
        before = _saves(client)
        try:
            client.bgsave()
        except redis.ResponseError as exc:
            if "in progress" not in str(exc):
                raise
        if not params.wait:
            return ActionResult(True, f"BGSAVE started on {params.url}")
        while True:
            info = client.info("persistence")
            if not info.get("rdb_bgsave_in_progress") and _saves(client, info) != before:
                break
            if ctx.remaining() <= 0:
                raise ActionError(f"BGSAVE on {params.url} still running after "
                                  f"{ctx.timeout:g} s")
            time.sleep(0.1)
        status = info.get("rdb_last_bgsave_status")
        if status != "ok":
            raise ActionError(f"BGSAVE on {params.url} finished with status {status}")
        return ActionResult(True, f"BGSAVE on {params.url} done; last save now "
                            f"{client.lastsave():%Y-%m-%d %H:%M:%S}")
    except redis.RedisError as exc:
        raise ActionError(f"{params.url}: {type(exc).__name__}: {exc}") from None
    finally:
        client.close()
