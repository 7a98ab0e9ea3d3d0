"""The redaction rules, in-process (opscheck.secrets): what counts as a secret written inline,
what is masked and where, what is reported as weak; the end-to-end outputs are in
test_secret_forms and test_redaction."""

from __future__ import annotations

import logging

import pytest

from opscheck import secrets


@pytest.fixture(autouse=True)
def fresh_secrets(monkeypatch: pytest.MonkeyPatch):
    """secrets' registry empty for this test, and as it was afterwards."""
    monkeypatch.setattr(secrets, "_values", set())
    monkeypatch.setattr(secrets, "_vars", {})
    monkeypatch.setattr(secrets, "_names", set())
    secrets._matcher.cache_clear()
    yield
    secrets._matcher.cache_clear()


@pytest.mark.parametrize(("data", "paths"), [
    ({"password": "x"}, ["password"]),
    ({"db": {"Password": "x", "passwd": "y", "passphrase": "z", "secret": "s", "token": "t"}},
     ["db.Password", "db.passwd", "db.passphrase", "db.secret", "db.token"]),
    ({"api_key": "k", "apikey": "k", "credentials": "c", "credential": "c"},
     ["api_key", "apikey", "credentials", "credential"]),
    ({"aws_secret_access_key": "k", "aws_access_key_id": "i", "aws_session_token": "t"},
     ["aws_secret_access_key", "aws_access_key_id", "aws_session_token"]),
    ({"password_env": "X", "token_file": "/run/t", "passwords": "x"}, []),
    ({"env": {"TOKEN": "GITHUB_TOKEN"}}, []),  # a command's env names variables
    ({"env": {"TOKEN": "ghp live value"}}, ["env.TOKEN"]),
    ({"components": [{"url": "redis://:hunter2@h:1"}, {"url": "redis://h:1"}]},
     ["components[0].url"]),
    ({"spec": "nats://TOKEN@h:4222", "tls": "tls://TOKEN@h", "http": "http://user@h/"},
     ["spec", "tls"]),
    ({"q": "http://h/?token=abc", "e": "http://h/?token=", "p": "http://h/?pass%77ord=x",
      "s": "http://h/a?x=1;sig=2", "n": "http://h/?page=2"}, ["q", "p", "s"]),
    ({"dsn": "host=db password = x", "ok": "host=db user=x", "ssl": "sslpassword=x"},
     ["dsn", "ssl"]),
    ({"bad": "http://[::1/x", "text": "see http://h/ and password=x in prose"}, []),
    ({"password": {"file": "/run/pw"}}, []),  # a table: looked into, not flagged whole
    ({"list": ["a", "http://h/?apikey=1"]}, ["list[1]"]),
])
def test_a_secret_written_inline_is_found_by_its_dotted_path(data, paths):
    assert list(secrets.inline_secrets(data)) == paths


def test_forms_shorter_than_four_characters_are_not_masked_unless_the_secret_itself():
    assert secrets.forms("ab") == {"ab", "YWI="}
    assert all(len(f) >= 4 or f == "ab" for f in secrets.forms("ab"))
    assert {" pw-abc ", "pw-abc", "%20pw-abc%20", "+pw-abc+"} <= secrets.forms(" pw-abc ")


def test_nothing_remembered_or_nothing_to_mask_leaves_the_text_as_it_is():
    assert secrets.redact("s3cr3t-value") == "s3cr3t-value"
    secrets.remember("")  # an empty variable is no secret
    assert secrets.redact("s3cr3t-value") == "s3cr3t-value"
    secrets.remember("s3cr3t-value")
    assert secrets.redact("") == ""
    assert secrets.redact("nothing here") == "nothing here"
    assert not secrets.contains_secret("nothing here") and not secrets.contains_secret("")
    assert secrets.contains_secret("x s3cr3t-value")


def test_the_longer_of_two_nested_secrets_is_masked_whole_in_either_order():
    secrets.remember("s3cr3t-prod")
    assert secrets.redact("s3cr3t-prod") == "***"
    secrets.remember("s3cr3t")  # learned later: still no "***-prod"
    assert secrets.redact("a s3cr3t-prod, b s3cr3t.") == "a ***, b ***."
    assert secrets.redact("s3cr3ts3cr3t") == "***"  # adjacent matches merge


def test_a_secret_cut_short_shows_no_part_of_itself():
    secrets.remember("0123456789abcdef")
    assert secrets.excerpt("key=0123456789abcdef tail", 9) == "key=*** t"
    assert secrets.excerpt("short", 3) == "sho"


def test_redact_any_masks_inside_containers_but_not_the_name_fields():
    secrets.remember("s3cr3t-value")
    record = {"check": "s3cr3t-value", "message": "pw s3cr3t-value", "n": 3,
              "lines": ["s3cr3t-value", ("s3cr3t-value", 1)], "nested": {"id": "s3cr3t-value"}}
    assert secrets.redact_any(record) == {
        "check": "s3cr3t-value", "message": "pw ***", "n": 3, "lines": ["***", ("***", 1)],
        "nested": {"id": "s3cr3t-value"}}
    assert secrets.redact_any({"message": "s3cr3t-value"}, keep=frozenset({"message"})) == {
        "message": "s3cr3t-value"}


def test_a_name_holding_the_secret_is_shown_whole_and_the_secret_masked_elsewhere():
    secrets.remember("postgres")
    secrets.protect(["wave-postgres", ""])
    assert secrets.redact("wave-postgres pw postgres") == "wave-postgres pw ***"
    secrets.protect(["wave-postgres"])  # again: nothing new
    assert secrets.redact("postgres-x") == "***-x"  # not a protected name


def test_resolve_remembers_a_set_variable_and_says_none_for_an_unset_one(monkeypatch):
    monkeypatch.setenv("OPSCHECK_T_SECRET", "a-long-s3cr3t-value")
    monkeypatch.delenv("OPSCHECK_T_NONE", raising=False)
    assert secrets.resolve("OPSCHECK_T_NONE") is None
    assert secrets.resolve("OPSCHECK_T_SECRET") == "a-long-s3cr3t-value"
    assert secrets.redact("a-long-s3cr3t-value") == "***"
    assert secrets.weak(["x"]) == {}  # long and in no name


def test_weak_secrets_are_the_short_ones_and_those_inside_names(monkeypatch):
    for var, value in (("OPSCHECK_T_A", "short"), ("OPSCHECK_T_B", "exactly8"),
                       ("OPSCHECK_T_C", "redis"), ("OPSCHECK_T_E", "")):
        monkeypatch.setenv(var, value)
        secrets.resolve(var)
    names = ["bus-redis", "redis", "redis-2", "redis-3", "redis-4"]
    assert secrets.weak(names) == {
        "OPSCHECK_T_A": "the secret in OPSCHECK_T_A is 5 characters (fewer than 8): it is "
                        "masked in messages but names are shown whole; use a long random secret",
        "OPSCHECK_T_C": "the secret in OPSCHECK_T_C is 5 characters (fewer than 8) and is "
                        "equal to or inside the names 'bus-redis', 'redis', 'redis-2' and 2 "
                        "more: it is masked in messages but names are shown whole; use a long "
                        "random secret"}
    assert secrets.weak(["exactly8-host"])["OPSCHECK_T_B"] == (
        "the secret in OPSCHECK_T_B is equal to or inside the name 'exactly8-host': it is "
        "masked in messages but names are shown whole; use a long random secret")
    assert "and" not in secrets.weak(["a-redis", "b-redis", "c-redis"])["OPSCHECK_T_C"].split(
        "'c-redis'")[1].split(":")[0]


def test_log_records_are_redacted_as_they_are_made(monkeypatch, caplog):
    monkeypatch.setattr(logging, "getLogRecordFactory", logging.getLogRecordFactory)
    before = logging.getLogRecordFactory()
    secrets.remember("s3cr3t-value")
    try:
        secrets.redact_logs()
        with caplog.at_level(logging.INFO):
            logging.getLogger("opscheck.test").info("login %s ok", "s3cr3t-value")
            logging.getLogger("opscheck.test").info("plain %s", "text")
    finally:
        logging.setLogRecordFactory(before)
    assert [r.getMessage() for r in caplog.records[:2]] == ["login *** ok", "plain text"]
    assert caplog.records[1].args == ("text",)  # untouched when it holds no secret
    bad = logging.LogRecord("x", logging.INFO, __file__, 1, "bad %d", ("s3cr3t-value",), None)
    assert secrets._Redacting().filter(bad)  # arguments that do not fit: logging says so
    assert bad.msg == "bad %d"


def test_an_exception_and_its_causes_are_scrubbed_in_place():
    secrets.remember("s3cr3t-value")
    try:
        try:
            raise OSError(13, "denied for s3cr3t-value", "/run/s3cr3t-value")
        except OSError as inner:
            raise RuntimeError("while using s3cr3t-value", 7) from inner
    except RuntimeError as exc:
        outer = exc
    secrets.scrub_exception(outer)
    assert outer.args == ("while using ***", 7)
    inner = outer.__cause__
    assert isinstance(inner, OSError)
    assert (inner.strerror, inner.filename) == ("denied for ***", "/run/***")
    assert "s3cr3t-value" not in f"{outer!r} {inner!r} {inner!s}"


class Opaque(Exception):
    def __init__(self, thing: object) -> None:
        super().__init__(thing)

    def __str__(self) -> str:
        return f"built from {self.args[0]}"


def test_an_exception_whose_message_is_built_from_objects_is_masked_inside_them():
    secrets.remember("s3cr3t-value")
    exc = Opaque(["s3cr3t-value"])  # a list: its string is not in args as text
    secrets.scrub_exception(exc)
    assert exc.args == (["***"],)  # masked inside its objects: its own text stays its text
    assert str(exc) == "built from ['***']"  # not "built from built from ['***']"


class Detailed(Exception):
    """An exception whose text comes from an attribute, not from its args."""

    def __init__(self, detail: str) -> None:
        super().__init__("request failed")
        self.detail = detail

    def __str__(self) -> str:
        return f"request failed: {self.detail}"


def test_an_exception_whose_text_reads_an_attribute_is_masked_there():
    secrets.remember("s3cr3t-value")
    exc = Detailed("token s3cr3t-value rejected")
    secrets.scrub_exception(exc)
    assert str(exc) == "request failed: token *** rejected"


class Unprintable(Exception):
    def __init__(self, thing: object) -> None:
        super().__init__(thing)

    def __str__(self) -> str:
        return f"holds {bytes(self.args[0]).decode()}"


def test_an_exception_built_from_opaque_objects_is_flattened_to_its_masked_text():
    secrets.remember("s3cr3t-value")
    exc = Unprintable(bytearray(b"s3cr3t-value"))  # no text to mask inside: flattened
    secrets.scrub_exception(exc)
    assert exc.args == ("holds ***",)
    assert "s3cr3t-value" not in repr(exc)


def test_a_commands_env_naming_lowercase_variables_is_not_a_secret():
    assert list(secrets.inline_secrets({"env": {"TOKEN": "gh_token", "KEY": "Api_Key2"}})) == []


def test_the_redacting_record_factory_passes_every_argument_on():
    record = secrets._record("opscheck.t", logging.INFO, __file__, 7, "m", (), None,
                             func="caller", sinfo="stack")
    assert (record.funcName, record.stack_info, record.lineno) == ("caller", "stack", 7)


# Every form of 'q"ü/& \n' (a quote, non-ASCII, a slash, an ampersand, a space, a newline):
# as is and stripped; JSON, ASCII JSON, repr and unicode-escaped, and each of those escaped
# once more; HTML-escaped with and without quotes; UTF-8 bytes' repr; URL-encoded (path,
# component, form; upper and lower hex); base64 at each offset in both alphabets.
GOLDEN_FORMS = {
    'Eiw7wvJ',
    'Eiw7wvJiAK',
    'cSLDvC8m',
    'cSLDvC8mIA',
    'cSLDvC8mIAo=',
    'q"\\\\xc3\\\\xbc/&',
    'q"\\\\xc3\\\\xbc/& \\\\n',
    'q"\\\\xfc/&',
    'q"\\\\xfc/& \\\\n',
    'q"\\xc3\\xbc/&',
    'q"\\xc3\\xbc/& \\n',
    'q"\\xfc/&',
    'q"\\xfc/& \\n',
    'q"ü/&',
    'q"ü/& \n',
    'q"ü/& \\\\n',
    'q"ü/& \\n',
    'q"ü/&amp;',
    'q"ü/&amp; \n',
    'q"ü/&amp; \\n',
    'q%22%C3%BC%2F%26',
    'q%22%C3%BC%2F%26%20%0A',
    'q%22%C3%BC%2F%26+%0A',
    'q%22%C3%BC/%26',
    'q%22%C3%BC/%26%20%0A',
    'q%22%c3%bc%2f%26',
    'q%22%c3%bc%2f%26%20%0a',
    'q%22%c3%bc%2f%26+%0a',
    'q&quot;ü/&amp;',
    'q&quot;ü/&amp; \n',
    'q&quot;ü/&amp; \\n',
    'q\\"\\\\xc3\\\\xbc/&',
    'q\\"\\\\xc3\\\\xbc/& \\\\n',
    'q\\"\\\\xfc/&',
    'q\\"\\\\xfc/& \\\\n',
    'q\\"\\u00fc/&',
    'q\\"\\u00fc/& \\n',
    'q\\"ü/&',
    'q\\"ü/& \\\\n',
    'q\\"ü/& \\n',
    'q\\"ü/&amp;',
    'q\\"ü/&amp; \\n',
    'q\\\\"\\\\u00fc/&',
    'q\\\\"\\\\u00fc/& \\\\n',
    'q\\\\"ü/&',
    'q\\\\"ü/& \\\\n',
    'q\\\\\\"\\\\u00fc/&',
    'q\\\\\\"\\\\u00fc/& \\\\n',
    'q\\\\\\"ü/&',
    'q\\\\\\"ü/& \\\\n',
    'xIsO8Ly',
    'xIsO8LyYgC',
}


def test_a_secret_is_masked_in_exactly_these_forms():
    assert secrets.forms('q"ü/& \n') == GOLDEN_FORMS


def test_base64_fragments_are_what_the_secret_alone_decides_at_each_offset():
    assert list(secrets._base64(b"abcde")) == [
        "YWJjZG", "YWJjZG", "FiY2Rl", "FiY2Rl", "hYmNkZ", "hYmNkZ", "YWJjZGU="]
    assert list(secrets._base64(b"ops:pw-s3cr3t")) == [
        "b3BzOnB3LXMzY3Izd", "b3BzOnB3LXMzY3Izd", "9wczpwdy1zM2NyM3", "9wczpwdy1zM2NyM3",
        "vcHM6cHctczNjcjN0", "vcHM6cHctczNjcjN0", "b3BzOnB3LXMzY3IzdA=="]
    assert list(secrets._base64(b"abc")) == ["YWJj"]  # fragments under 6 characters: whole only
    assert list(secrets._base64(b"\xfb\xff\xfe\xfb\xff\xfe\xfb")) == [
        "+//++//++", "-__--__--", "v//vv//v", "v__vv__v", "7//77//77", "7__77__77",
        "+//++//++w=="]  # and the URL-safe alphabet's


def test_overlapping_occurrences_are_all_found():
    assert secrets._spans("aaaa", ["aa"]) == [(0, 2), (1, 3), (2, 4)]
    assert secrets._spans("xaax aa", ["aa", "x"]) == [(0, 1), (1, 3), (3, 4), (5, 7)]


def test_a_name_starting_with_the_secret_is_kept_whole():
    secrets.remember("s3cr3t")
    secrets.protect(["s3cr3t-host"])
    assert secrets.redact("s3cr3t-host down, s3cr3t used") == "s3cr3t-host down, *** used"


@pytest.mark.parametrize("url", ["http://h/?token=a=b", "http://h/?token=x=",
                                 "http://h/?a=1&key=v"])
def test_a_secret_query_parameter_is_found_by_its_first_equals_sign(url):
    assert list(secrets.inline_secrets({"u": url})) == ["u"]
