"""Redis: ``BGSAVE``, the runbooks' snapshot before anything risky or after a failed save.

Connects with redis-py (imported only when the action runs), sends BGSAVE, and waits
(bounded by the action's timeout) until the save counter moves and the save reports ``ok``.
"""

from __future__ import annotations

import time

from pydantic import Field, field_validator

from opscheck import secrets
from remediations.registry import ActionContext, ActionError, ActionResult, Params, action


class BgsaveParams(Params):
    url: str = Field(default="redis://127.0.0.1:6379/0", description="redis:// URL, no password")
    password_env: str | None = Field(default=None,
                                     description="environment variable holding the password")
    wait: bool = Field(default=True, description="wait for the save to finish")

    @field_validator("password_env")
    @classmethod
    def _set(cls, value: str | None) -> str | None:
        if value and secrets.resolve(value) is None:
            raise ValueError(f"environment variable {value} is not set; export it or remove "
                             "password_env")
        return value


def _saves(client: object, info: dict | None = None) -> object:
    """A value that changes with every completed save: ``rdb_saves`` (Redis 7), else LASTSAVE."""
    info = info if info is not None else client.info("persistence")  # type: ignore[attr-defined]
    return info["rdb_saves"] if "rdb_saves" in info else client.lastsave()  # type: ignore[attr-defined]


@action(BgsaveParams, summary="trigger a Redis background save (BGSAVE)")
def redis_bgsave(ctx: ActionContext, params: BgsaveParams) -> ActionResult:
    """BGSAVE, then wait for it to complete."""
    if ctx.plan:
        return ActionResult(True, f"would send BGSAVE to {params.url}")
    import redis

    password = secrets.resolve(params.password_env) if params.password_env else None
    timeout = max(ctx.remaining(), 0.1)
    client = redis.Redis.from_url(params.url, password=password, socket_timeout=timeout,
                                  socket_connect_timeout=timeout)
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
