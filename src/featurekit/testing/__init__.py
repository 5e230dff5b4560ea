"""Test helpers for featurekit users and featurekit itself: a pytest plugin and builders.

Enable the plugin in a conftest.py with ``pytest_plugins = ["featurekit.testing.plugin"]``;
it provides a session-scoped ``spark`` fixture (fast local settings) and a
``local_runtime`` fixture on a fresh warehouse folder per test.
"""
