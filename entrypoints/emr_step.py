"""The spark-submit main of an EMR step or EMR Serverless job run.

    spark-submit [--py-files featurekit.zip] emr_step.py --job NAME \\
        [--param k=v ...] [--start DATE --end DATE] [--warehouse DIR] [--engine auto]

featurekit and the jobs come from ``--py-files`` (``featurekit package`` builds the
zip) or from an installed featurekit. ``FEATUREKIT_WAREHOUSE`` is the default
``--warehouse``, as for the ``featurekit`` command.
"""

from __future__ import annotations

import os
import sys


def _main() -> int:
    try:
        from featurekit.runtime.emr import main
    except ImportError as exc:
        print(
            f"emr_step.py: cannot import featurekit ({exc}). Ship it with "
            "'spark-submit --py-files featurekit.zip' (built by 'featurekit package') "
            "or install featurekit on the cluster.",
            file=sys.stderr,
        )
        return 2
    return main(sys.argv[1:], default_warehouse=os.environ.get("FEATUREKIT_WAREHOUSE", "warehouse"))


if __name__ == "__main__":
    sys.exit(_main())
