"""File task queues (Agentic Factory runbook §3.3, §4.3, §6.4): folders, depth, age, failures."""

import pytest


@pytest.mark.critical
@pytest.mark.queue
def test_queue_folder_readable(queue_component, folder):
    """Each state folder (backlog/ ready/ in-progress/ review/ done/ failed/) exists and lists."""
    problem = queue_component.folder_problem(folder)
    assert problem is None, f"{queue_component} folder {folder}: {problem}; agents cannot move " \
        f"tasks through it. Action: recreate it (mkdir -p) with the agents' owner"


@pytest.mark.standard
@pytest.mark.queue
def test_ready_depth(queue_component, measure):
    """Tasks waiting in ready/ (AF: alert above 50)."""
    depth = queue_component.depth(queue_component.layout.ready)
    measure("ready depth", depth, queue_component.thresholds.ready_depth)


@pytest.mark.standard
@pytest.mark.queue
def test_failed_last_24h(queue_component, measure):
    """Tasks that landed in failed/ in the last 24 h (AF: alert above 10), by file mtime."""
    failed = queue_component.failed_since(24)
    measure("tasks failed in the last 24 h", len(failed), queue_component.thresholds.failed_24h)


@pytest.mark.standard
@pytest.mark.queue
def test_dead_letter_empty(queue_component, measure):
    """Anything in the dead-letter folder needs a human (AF: alert on any item)."""
    layout = queue_component.layout
    tasks = queue_component.tasks(layout.dead_letter, parse=False)
    measure(f"dead-letter tasks in {layout.dead_letter}/", len(tasks),
            queue_component.thresholds.dead_letter,
            detail=queue_component.listing(tasks) if tasks else None)


def _oldest(queue_component, measure, folder, threshold, what):
    tasks = queue_component.tasks(folder, parse=False)
    oldest = round(max((t.age for t in tasks), default=0.0) / 60, 1)
    over = [t for t in reversed(tasks) if threshold.state(t.age / 60) != "ok"]
    detail = f"{len(over)} {what}: {queue_component.listing(over, 'age')}" if over else None
    measure(f"oldest {folder} task age", oldest, threshold, detail=detail)


@pytest.mark.standard
@pytest.mark.queue
@pytest.mark.remediation("requeue_stuck_tasks")
def test_no_stuck_in_progress(queue_component, measure):
    """In-progress tasks older than 2 h are stuck (agent crashed), listed (AF §6.4)."""
    _oldest(queue_component, measure, queue_component.layout.in_progress,
            queue_component.thresholds.in_progress_age, "stuck")


@pytest.mark.standard
@pytest.mark.queue
def test_ready_wait(queue_component, measure):
    """Ready tasks waiting over 60 min: no agent is claiming work (AF §6.4)."""
    _oldest(queue_component, measure, queue_component.layout.ready,
            queue_component.thresholds.ready_age, "waiting")


@pytest.mark.standard
@pytest.mark.queue
def test_no_retry_loops(queue_component, measure):
    """Ready/in-progress tasks whose JSON "attempt" is above 1 are retrying (AF §7)."""
    retrying = sorted(queue_component.retrying(), key=lambda t: -(t.attempt or 0))
    highest = retrying[0].attempt if retrying else 1
    measure("highest task attempt", highest, queue_component.thresholds.attempts,
            detail=queue_component.listing(retrying, "attempt") if retrying else None)


@pytest.mark.standard
@pytest.mark.queue
def test_task_files_valid_json(queue_component):
    """Every task file parses as JSON: a corrupt one stalls whichever agent picks it up."""
    invalid = queue_component.invalid()
    assert not invalid, (
        f"{queue_component} {len(invalid)} task file(s) not valid JSON: "
        f"{queue_component.listing(invalid, 'error')}. Action: fix or move them to "
        f"{queue_component.layout.dead_letter}/")
