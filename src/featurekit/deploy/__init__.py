"""Shipping featurekit: artifacts (``package``), request plans and deploys for Glue and EMR.

* :mod:`featurekit.deploy.package`: wheel, ``--py-files`` bundle, entry scripts, manifest.
* :mod:`featurekit.deploy.emr_plan`: the EMR ``AddJobFlowSteps`` request.
* :mod:`featurekit.deploy.emr_serverless_plan`: the EMR Serverless ``StartJobRun`` request.
* :mod:`featurekit.deploy.glue_deploy`: the Glue job definition ``deploy glue`` sends.
* :mod:`featurekit.deploy.common`: the job's command line, artifact URIs, Delta/Glue confs.
* :mod:`featurekit.deploy.aws`: upload the artifacts and make the calls with boto3.
"""
