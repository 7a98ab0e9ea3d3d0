"""``python -m opscheck``: the ``opscheck`` command."""

from opscheck.cli import main

main()
