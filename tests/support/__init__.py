"""Helpers shared by the tests, as a library with public names: clocks, databases, factories,
the standard two-site world, sign-in and webhook receivers. Fixtures and hooks stay in the
conftest files; test modules import what they need from here, never from a conftest."""
