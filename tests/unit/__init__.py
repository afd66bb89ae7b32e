"""Unit tests: no database, no Flask."""
