"""Test tooling: a throw-away PostgreSQL server, helpers shared by the suites."""
