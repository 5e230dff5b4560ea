"""featurekit: write a PySpark feature job once, run it locally, on Glue, EMR and EMR Serverless."""

from featurekit.errors import FeatureKitError
from featurekit.io import DeltaInput, FeatureTable, FilesInput, Maintenance, TableInput
from featurekit.job import FeatureJob, IncrementalFeatureJob, JobContext
from featurekit.params import Param

__version__ = "0.1.0"

__all__ = [
    "DeltaInput",
    "FeatureJob",
    "FeatureKitError",
    "FeatureTable",
    "FilesInput",
    "IncrementalFeatureJob",
    "JobContext",
    "Maintenance",
    "Param",
    "TableInput",
    "__version__",
]
