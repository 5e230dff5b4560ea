"""The one script uploaded to AWS Glue for every featurekit job.

Glue runs it with its own arguments (``--JOB_NAME``, ``--JOB_RUN_ID``,
``--job-bookmark-option``, ...) plus the job's DefaultArguments:

    --featurekit_job NAME              the registered job to run (required)
    --featurekit_params a=1,b=2        job parameters (or a JSON object)
    --featurekit_start / _end DATE     rebuild exactly these dates (both or neither)
    --featurekit_warehouse PATH        the featurekit warehouse
    --featurekit_engine ENGINE         auto | delta-spark | delta-rs (default delta-spark on Glue)
    --featurekit_catalog glue|local    where tables are found and registered (default glue:
                                       the Glue Data Catalog; plan glue always sets it)

Locally: ``featurekit glue run entrypoints/glue_job.py -- --JOB_NAME demo --featurekit_job NAME``.
"""

import sys

from featurekit.runtime.glue import main

code = main(sys.argv)
if code:
    sys.exit(code)
