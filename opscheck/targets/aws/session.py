"""One boto3 session per component: credentials from boto3's chain, every call bounded.

- **Credentials** come only from boto3's standard chain: environment variables
  (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``), the named
  ``profile`` (or ``AWS_PROFILE``) of ``~/.aws/config`` and ``~/.aws/credentials``, a container
  or instance role. The resolved secret key and session token are registered for redaction.
- **Deadlines**: botocore's connect and read timeouts are the component's ``timeout``, its
  retries are ``retries`` (standard mode; 0 by default: nothing is retried), and the whole
  call, credential lookup and pagination included, runs under one deadline of ``timeout``:
  botocore's read timeout is per socket read, so a peer that trickles its answer would
  otherwise hold a check for ever. A call past its deadline raises :class:`TimeoutError`
  (the component is then unreachable for the rest of the run); the worker thread it leaves
  is a daemon, ended by botocore's own timeouts or at exit.
- **Errors** become one line: refused credentials and denied permissions are "could not
  run" (:class:`AwsError`, with the fix); a failed connection is a ``ConnectionError``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from opscheck import secrets
from opscheck.errors import CouldNotRun

T = TypeVar("T")

#: error codes by which AWS refuses the credentials themselves
REFUSED = {"InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
           "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "AuthFailure",
           "InvalidSignatureException", "IncompleteSignature", "MissingAuthenticationToken"}
#: error codes by which AWS denies the call to valid credentials
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
          "AuthorizationError", "UnauthorizedException"}
CHAIN = ("export AWS_PROFILE (or set profile), or AWS_ACCESS_KEY_ID and "
         "AWS_SECRET_ACCESS_KEY, or run where an instance or container role applies")


class AwsError(CouldNotRun):
    """An AWS API error: ``code`` is AWS's error code; ``str()`` the one-line reason."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


def bounded(fn: Callable[[], T], seconds: float, what: str) -> T:
    """``fn()``'s result within ``seconds``, or TimeoutError; its exception re-raised."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the waiting thread
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"opscheck-aws {what}", daemon=True).start()
    if not done.wait(seconds):
        raise TimeoutError(f"{what}: no whole answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


class AwsSession:
    """boto3 clients for one component (any object with name, region, endpoint_url,
    profile, retries and timeout), and its calls, each bounded by the timeout."""

    def __init__(self, component: Any) -> None:
        self.component = component
        self.timeout = float(component.timeout)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def __str__(self) -> str:
        return str(self.component.name)

    def _boto(self) -> Any:
        import boto3  # lazily: only a run that checks AWS imports boto3
        from botocore.exceptions import ProfileNotFound

        if self._session is None:
            try:
                self._session = boto3.session.Session(profile_name=self.component.profile,
                                                      region_name=self.component.region)
            except ProfileNotFound:
                raise AwsError(f"could not run: {self}: AWS profile "
                               f"{self.component.profile!r} is not in ~/.aws/config or "
                               "~/.aws/credentials; fix profile or create it") from None
            credentials = self._session.get_credentials()
            if credentials is None:
                raise AwsError(f"could not run: {self}: no AWS credentials found in boto3's "
                               f"chain; {CHAIN}")
            frozen = credentials.get_frozen_credentials()
            for value in (frozen.secret_key, frozen.token):
                if value:
                    secrets.remember(value)
        return self._session

    def client(self, service: str) -> Any:
        """The service's client: botocore timeouts and retries set explicitly, no waits
        beyond them."""
        from botocore.config import Config

        with self._lock:
            if service not in self._clients:
                config = Config(connect_timeout=self.timeout, read_timeout=self.timeout,
                                retries={"max_attempts": self.component.retries,
                                         "mode": "standard"},
                                user_agent_extra="opscheck")
                self._clients[service] = self._boto().client(
                    service, endpoint_url=self.component.endpoint_url, config=config)
            return self._clients[service]

    def call(self, service: str, operation: str, **params: Any) -> Any:
        """``client(service).<operation>(**params)``, bounded by the timeout."""
        what = f"{service} {operation}"
        return self._guard(lambda: getattr(self.client(service), operation)(**params), what)

    def pages(self, service: str, operation: str, **params: Any) -> list[Any]:
        """Every page of a paginated ``operation``; all of them within one timeout."""
        what = f"{service} {operation}"
        return self._guard(lambda: list(self.client(service).get_paginator(operation)
                                        .paginate(**params)), what)

    def within(self, seconds: float, what: str, fn: Callable[[], T]) -> T:
        """``fn()`` (which calls this session's clients) bounded by ``seconds`` instead of
        the timeout: a download's budget. Errors as for :meth:`call`."""
        return self._guard(fn, what, seconds)

    def _guard(self, fn: Callable[[], T], what: str, seconds: float | None = None) -> T:
        from botocore import exceptions as bx

        try:
            return bounded(fn, self.timeout if seconds is None else seconds, what)
        except bx.ClientError as exc:
            error = exc.response.get("Error", {})
            code, text = str(error.get("Code", "")), str(error.get("Message", "")).strip()
            if code in REFUSED:
                raise AwsError(f"could not run: {self}: AWS refused the credentials ({what}: "
                               f"{code}: {text}); {CHAIN}", code) from None
            if code in DENIED:
                raise AwsError(f"could not run: {self}: not allowed to call {what} ({code}); "
                               "grant it to the role or user opscheck runs as", code) from None
            raise AwsError(f"could not run: {self}: {what} answered {code}: {text}",
                           code) from None
        except (bx.NoCredentialsError, bx.PartialCredentialsError) as exc:
            raise AwsError(f"could not run: {self}: {exc}; {CHAIN}") from None
        except bx.ConnectTimeoutError as exc:
            raise TimeoutError(f"{what}: {exc}") from None
        except bx.ReadTimeoutError as exc:
            raise TimeoutError(f"{what}: {exc}") from None
        except (bx.EndpointConnectionError, bx.ConnectionError, bx.HTTPClientError) as exc:
            raise ConnectionError(f"{what}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()
