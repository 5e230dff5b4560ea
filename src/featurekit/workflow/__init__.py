"""Workflows: a selection of the job graph deployed as one scheduled workflow.

Each job runs on its own target (Glue, an EMR step, EMR Serverless), chosen per job in the
project (``[tool.featurekit.workflow.targets]``) or by the cost model (``auto``); the
workflow runs them in the graph's order, independent jobs side by side.

* :mod:`featurekit.workflow.settings`: the project's ``[tool.featurekit.workflow]`` table,
  schedules and the run's dates.
* :mod:`featurekit.workflow.spec`: the selected jobs, their edges and their targets.
* :mod:`featurekit.workflow.requests`: each job's request on its target, botocore-checked.
* :mod:`featurekit.workflow.stepfunctions`: the state machine (ASL), its schedule and policy.
* :mod:`featurekit.workflow.airflow`: the Airflow (MWAA) DAG file.
* :mod:`featurekit.workflow.glue_workflow`: a Glue workflow and its triggers (all-Glue graphs).
* :mod:`featurekit.workflow.cost`: a workflow's cost per schedule and its critical path.
* :mod:`featurekit.workflow.aws`: the calls ``featurekit deploy workflow`` makes.

docs/workflows.md tells the whole story.
"""
