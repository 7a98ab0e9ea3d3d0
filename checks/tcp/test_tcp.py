"""TCP services: the port accepts connections, quickly."""

import pytest


@pytest.mark.critical
@pytest.mark.tcp
def test_tcp_accepts_connections(tcp_component):
    """The port accepts a TCP connection within the component's timeout."""
    assert tcp_component.connect_seconds >= 0, f"{tcp_component} did not connect"


@pytest.mark.standard
@pytest.mark.tcp
def test_tcp_connect_time(tcp_component, measure):
    """Seconds until the connection was accepted, against the connect_time levels."""
    measure("connect time", tcp_component.connect_seconds, tcp_component.thresholds.connect_time)
