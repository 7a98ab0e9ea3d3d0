"""What must run on a host: the processes, sockets and systemd units the inventory names."""

import pytest


@pytest.mark.standard
@pytest.mark.host
def test_process_running(host_component, process):
    """A process the inventory requires is running (matched by command name)."""
    count = host_component.processes(process)
    assert count > 0, f"{host_component}: process {process!r} is not running (0 found)"


@pytest.mark.standard
@pytest.mark.host
def test_socket_listening(host_component, listener):
    """A socket the inventory requires is listening (testinfra socket spec)."""
    assert host_component.listening(listener), (
        f"{host_component}: nothing listens on {listener}")


@pytest.mark.standard
@pytest.mark.host
def test_unit_active(host_component, unit):
    """A systemd unit the inventory requires is active."""
    state = host_component.unit_state(unit)
    assert state == "active", f"{host_component}: unit {unit} is {state}, expected active"
