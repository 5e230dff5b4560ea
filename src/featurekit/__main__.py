"""``python -m featurekit`` runs the command line."""

from featurekit.cli import run

run()
