"""The queue actions never follow a symbolic link: not a task file's, not a state folder's.

A link planted in a queue (``in-progress/x.json -> /root/secrets.json``, ``paused ->
/etc``) must not make a requeue copy a file from elsewhere into ready/, nor a pause move
tasks out of the queue. Each test plants the link on real folders and calls the action
as the runner does.
"""

from __future__ import annotations

import json
import os

import pytest
from remediation_kit import make_queue, snapshot


def run(action: str, **params):
    from opscheck.remediations import registry
    from opscheck.remediations.registry import ActionContext

    spec = registry.get(action)
    return spec.func(ActionContext("q", False, 60), spec.params.model_validate(params))


def test_requeue_leaves_a_symlinked_task_and_never_copies_its_target(tmp_path):
    queue = make_queue(tmp_path / "queue", in_progress=2, age_min=180)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secrets.json"
    secret.write_text('{"token": "hunter2-outside"}')
    link = queue / "in-progress" / "planted.json"
    link.symlink_to(secret)
    os.utime(link, (0, 0), follow_symlinks=False)
    os.utime(secret, (0, 0))
    before = snapshot(outside)
    result = run("requeue_stuck_tasks", queue=str(queue), older_than=120)
    assert sorted(p.name for p in (queue / "ready").iterdir()) == [
        "in-progress-0000.json", "in-progress-0001.json"]
    assert link.is_symlink() and os.readlink(link) == str(secret)
    assert snapshot(outside) == before
    assert "planted.json: left in in-progress/ (a symlink, never followed)" in result.output
    assert "hunter2" not in result.summary + result.output


def test_recover_puts_a_symlinked_journal_back_unfollowed(tmp_path):
    from opscheck.remediations import tasks
    from opscheck.targets.queue import Layout

    queue = make_queue(tmp_path / "queue")
    secret = tmp_path / "secrets.json"
    secret.write_text('{"token": "hunter2-outside", "attempt": 0}')
    journal = queue / "in-progress" / f".planted.json{tasks.JOURNAL}"
    journal.symlink_to(secret)
    assert tasks.recover(Layout(root=queue)) == 0
    assert not list((queue / "ready").iterdir())
    assert (queue / "in-progress" / "planted.json").is_symlink()
    assert json.loads(secret.read_text())["attempt"] == 0


@pytest.mark.parametrize("action,folder", [("pause_queue", "paused"),
                                           ("requeue_stuck_tasks", "ready"),
                                           ("resume_queue", "ready")])
def test_a_state_folder_that_is_a_symlink_is_refused_before_any_move(tmp_path, action, folder):
    from opscheck.remediations.registry import ActionError

    queue = make_queue(tmp_path / "queue", ready=2, in_progress=2, age_min=180)
    (queue / "paused").mkdir()
    (queue / "paused" / "p.json").write_text("{}")
    outside = tmp_path / "outside"
    (queue / folder).rename(outside)
    (queue / folder).symlink_to(outside)
    before = snapshot(queue), snapshot(outside)
    with pytest.raises(ActionError) as raised:
        run(action, queue=str(queue))
    assert str(raised.value) == (f"folder {queue / folder}: {queue / folder} is a symlink "
                                 f"(refused: it could lead anywhere); write the real path, "
                                 f"{outside}")
    assert (snapshot(queue), snapshot(outside)) == before
