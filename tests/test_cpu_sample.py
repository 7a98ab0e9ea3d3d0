"""CPU samples (opscheck.cpusample): the suite's own CPU time is left out of a local
host's busy %, and a sample started as the run starts is the one the check reads (one
sample per host, all at the same time, none taken again in the check)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from opscheck import cpusample as cpu
from opscheck.components.host import HostComponent
from opscheck.targets.host import HostTarget


def test_busy_leaves_out_the_suites_own_ticks():
    first = [100, 0, 50, 800, 50, 0, 0, 0]
    second = [160, 0, 70, 900, 70, 0, 0, 0]  # 80 busy ticks of 200
    assert cpu.busy_pct(first, second) == 40.0
    assert cpu.busy_pct(first, second, own=80) == 0.0
    assert cpu.busy_pct(first, second, own=30) == 25.0
    assert cpu.busy_pct(first, second, own=500) == 0.0  # never below nothing


def _burn(seconds: float) -> None:
    start = os.times()
    while (os.times().user + os.times().system) - (start.user + start.system) < seconds:
        pass


def test_own_tree_counts_this_process_and_the_children_it_waited_for():
    root = os.getpid()
    before = cpu.tree_ticks(root)
    _burn(0.3)
    subprocess.run([sys.executable, "-c", "import os\nt = os.times()\n"
                    "while os.times().user - t.user < 0.3: pass"], check=True)
    used = cpu.tree_ticks(root) - before
    hz = os.sysconf("SC_CLK_TCK")
    assert used >= 0.5 * hz, f"{used} ticks for 0.6 s of CPU in the tree"


def test_a_process_outside_the_tree_is_not_the_suites(tmp_path):
    """A process that is not ours (orphaned: its parent shell exited) burns 0.4 s of CPU;
    our tree's count does not take it."""
    done = tmp_path / "done"
    burner = (f"import os, pathlib\nt = os.times()\nwhile os.times().user - t.user < 0.4: pass\n"
              f"pathlib.Path({str(done)!r}).write_text('x')")
    before = cpu.tree_ticks(os.getpid())
    subprocess.run(["sh", "-c", f'{sys.executable} -c "$0" >/dev/null 2>&1 &', burner],
                   check=True)
    while not done.exists():
        time.sleep(0.05)
    used = cpu.tree_ticks(os.getpid()) - before
    hz = os.sysconf("SC_CLK_TCK")
    assert used < 0.3 * hz, f"{used} ticks: the orphan's CPU was counted as the suite's"


def test_prepared_sample_is_the_one_the_check_reads():
    """prepare() starts the sample; cpu_busy() reads that one: /proc/stat is read twice in
    all, not four times."""
    component = HostComponent(name="h", kind="host", spec="local://", cpu_sample=0.1)
    target = HostTarget.open(component)
    reads: list[str] = []
    run = target.run

    def counting(command: str) -> str:
        reads.append(command)
        return run(command)

    target.run = counting  # type: ignore[method-assign]
    target.prepare({"test_cpu_busy", "test_memory_used"})
    busy = target.cpu_busy(0.1)
    assert 0.0 <= busy <= 100.0
    assert reads.count(cpu.STAT) == 2, reads
    target.cpu_busy(0.1)  # a second check samples afresh
    assert reads.count(cpu.STAT) == 4, reads


def test_no_sample_is_started_when_the_cpu_check_is_not_selected():
    component = HostComponent(name="h", kind="host", spec="local://")
    target = HostTarget.open(component)
    target.prepare({"test_memory_used"})
    assert target._sample is None
