"""Deployment: packaging and the AWS requests (Glue CreateJob, EMR steps, EMR Serverless) as data.

Planners build request dictionaries only; they never call AWS. ``featurekit plan ...``
prints them as JSON for ``aws ... --cli-input-json`` or infrastructure code.
"""
