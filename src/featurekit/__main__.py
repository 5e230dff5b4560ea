"""``python -m featurekit`` runs the command line."""

import sys

from featurekit.cli import main

sys.exit(main())
