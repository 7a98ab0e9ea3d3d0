"""The tcp kind against real loopback listeners: accepting passes, refusing fails once."""

from __future__ import annotations

import socket

from servers import free_port


def tcp_inventory(port: int, extra: str = "") -> str:
    return (f'[[components]]\nname = "svc"\nkind = "tcp"\nhost = "127.0.0.1"\nport = {port}\n'
            f'timeout = 1\n{extra}')


def test_a_listening_port_passes(suite):
    with socket.create_server(("127.0.0.1", 0)) as server:
        suite.inventory(tcp_inventory(server.getsockname()[1]))
        result = suite.run(checks=("tcp",))
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["svc (tcp): 2 passed"])


def test_a_closed_port_fails_once_and_the_rest_could_not_run(suite):
    port = free_port()  # nothing listens there
    suite.inventory(tcp_inventory(port))
    result = suite.run(checks=("tcp",))
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines([f"*svc unreachable at 127.0.0.1:{port}: ConnectionRefusedError*"])


def test_a_slow_accept_crosses_the_connect_time_level(suite):
    with socket.create_server(("127.0.0.1", 0)) as server:
        suite.inventory(tcp_inventory(server.getsockname()[1],
                                      "[components.thresholds.connect_time]\n"
                                      "warning = 0\ncritical = 0\n"))
        result = suite.run("-k", "connect_time", checks=("tcp",))
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*svc connect time * ≥ critical 0 s*"])
