"""PostgreSQL role: opscheck connects as a role without write rights, not a superuser."""

import pytest


@pytest.mark.standard
@pytest.mark.postgres
def test_postgres_role_not_superuser(postgres_component, measure):
    """The role opscheck connects as is not a superuser (warns: give it pg_monitor and SELECT
    grants only; a probe's guards cannot see inside views and functions, the role can)."""
    name, superuser = postgres_component.role()
    measure("role superuser", 1.0 if superuser else 0.0, postgres_component.thresholds.superuser,
            detail=name)
