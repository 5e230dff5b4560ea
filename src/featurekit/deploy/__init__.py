"""Shipping featurekit: artifacts, request plans and deploys for Glue, EMR and EMR Serverless.

Planners build request dictionaries only and never call AWS; ``featurekit plan ...`` prints
them as JSON for ``aws ... --cli-input-json`` or infrastructure code. ``featurekit deploy``
uploads the artifacts and makes the calls.

* :mod:`featurekit.deploy.package`: wheel, ``--py-files`` bundle, entry scripts, manifest.
* :mod:`featurekit.deploy.glue_plan`: the Glue ``CreateJob`` request.
* :mod:`featurekit.deploy.emr_plan`: the EMR ``AddJobFlowSteps`` request.
* :mod:`featurekit.deploy.emr_serverless_plan`: the EMR Serverless ``StartJobRun`` request.
* :mod:`featurekit.deploy.glue_deploy`: the run arguments ``deploy glue`` sends.
* :mod:`featurekit.deploy.common`: the job's command line, artifact URIs, Delta/Glue confs.
* :mod:`featurekit.deploy.aws`: upload the artifacts and make the calls with boto3.
"""
