"""The verdicts a fact can raise, without pytest: importable from targets, models and scripts.

A target (the facts about a component) raises these where it finds a check's condition
false or cannot find out; the suite's pipeline (:mod:`opscheck.verdict`) reports each as
one line:

- :class:`CheckFailed`: the check *failed*, with this message as its whole report;
- :class:`CouldNotRun`: the check could not run (credentials refused, no driver);
- :class:`NotApplicable`: the check does not apply to this component: *skipped* with
  this reason (a replica check on a primary, a manifest check without a manifest).
"""

from __future__ import annotations


class CheckFailed(AssertionError):
    """A check's verdict, worded for the operator (observed vs expected, the component).

    Like a check's own ``assert cond, msg``, it is reported as its message alone.
    """


class CouldNotRun(Exception):
    """The check could not run (component unreachable, credentials refused, no NVML).

    Raised in a fixture or a check it becomes a pytest *error* with this one line.
    """


class NotApplicable(Exception):
    """The check does not apply to this component's configuration: a *skip* with the reason."""
