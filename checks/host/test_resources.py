"""Host resources against the runbooks' alerting thresholds: disk, inodes, memory, CPU, swap."""

import pytest


@pytest.mark.critical
@pytest.mark.host
def test_host_reachable(host_component):
    """The host answers commands through its testinfra backend."""
    assert host_component.uptime() > 0, f"{host_component} reported no uptime"


@pytest.mark.critical
@pytest.mark.host
def test_disk_not_critically_full(host_component, mount, measure):
    """Disk used % per mount (runbooks: warning 75 %, critical 85 %)."""
    usage = host_component.disk(mount)
    assert usage.mounted_on == mount, (
        f"{host_component} {mount} is not a mount point (it lies on {usage.mounted_on}); "
        "fix mounts in the inventory")
    measure(f"disk used on {mount}", usage.used_pct, host_component.thresholds.disk)


@pytest.mark.standard
@pytest.mark.host
def test_inodes_used(host_component, mount, measure):
    """Inodes used % per mount: a disk can fill with small files while bytes remain."""
    usage = host_component.disk(mount)
    if usage.inodes_pct is None:
        pytest.skip(f"{mount} on {host_component} reports no inode counts (e.g. btrfs)")
    measure(f"inodes used on {mount}", usage.inodes_pct, host_component.thresholds.inodes)


@pytest.mark.standard
@pytest.mark.host
def test_memory_used(host_component, measure):
    """Memory used % (MemTotal - MemAvailable), runbooks: warning 75 %, critical 90 %."""
    measure("memory used", host_component.memory().used_pct, host_component.thresholds.memory)


@pytest.mark.standard
@pytest.mark.host
def test_cpu_busy(host_component, measure):
    """CPU busy % over a short sample, runbooks: warning 70 %, critical 85 %."""
    busy = host_component.cpu_busy(host_component.component.cpu_sample)
    measure("CPU busy", busy, host_component.thresholds.cpu)


@pytest.mark.standard
@pytest.mark.host
def test_swap_used(host_component, measure):
    """Swap used %: a host that swaps serves everything slowly."""
    swap = host_component.memory().swap_pct
    if swap is None:
        pytest.skip(f"{host_component} has no swap configured")
    measure("swap used", swap, host_component.thresholds.swap)
