"""The boto3 adapter of ``featurekit deploy``: upload artifacts, call Glue / EMR / EMR Serverless.

boto3 and botocore are imported here only, lazily (featurekit's ``aws`` extra).
Every request is checked against botocore's service model before it is sent, and
botocore errors become :class:`~featurekit.errors.DeployError` naming the call.

Example::

    aws = Aws(AwsSettings(region="us-east-1", endpoint_url="http://127.0.0.1:5000"))
    aws.upload_artifacts(Path("dist"), "s3://bucket/featurekit")
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from featurekit.deploy.common import check_region
from featurekit.deploy.package import MANIFEST, verify
from featurekit.errors import ConfigError, DeployError, MissingDependencyError

# Terminal states per API (the wait stops there); the first of each is success.
EMR_STEP_DONE = ("COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED")
SERVERLESS_DONE = ("SUCCESS", "FAILED", "CANCELLED")
GLUE_DONE = ("SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED")


@dataclass(frozen=True)
class AwsSettings:
    """Where the calls go: region, endpoint (moto, LocalStack), and how to wait."""

    region: Optional[str] = None
    endpoint_url: Optional[str] = None
    poll_seconds: float = 10.0
    timeout_seconds: float = 3600.0

    def __post_init__(self) -> None:
        if self.region is not None:  # a misspelt region would only fail at the first call
            check_region(self.region)


@dataclass(frozen=True)
class RunState:
    """The last state seen of a step or job run; ``done`` when the API says it ended."""

    service: str
    run_id: str
    state: str
    done: bool
    succeeded: bool


def _boto3() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise MissingDependencyError("boto3", "aws", "featurekit deploy") from exc
    return boto3


def validate_request(service: str, operation: str, request: Mapping[str, Any]) -> None:
    """Check ``request`` against botocore's model of ``service``/``operation``.

    Example::

        validate_request("emr", "AddJobFlowSteps", add_step_request(...))
    """
    try:
        import botocore.session
        from botocore.validate import ParamValidator
    except ImportError as exc:  # a clear error (exit 2), not a traceback; plans without boto3
        raise MissingDependencyError(
            "boto3", "aws", f"Validating the {service} {operation} request"
        ) from exc

    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    if shape is None:
        raise ConfigError(f"{service} {operation} takes no parameters in botocore's model.")
    report = ParamValidator().validate(dict(request), shape)
    if report.has_errors():
        raise ConfigError(f"{service} {operation} request is invalid:\n{report.generate_report()}")


@contextmanager
def _calling(what: str) -> Iterator[None]:
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, Boto3Error) as exc:
        raise DeployError(
            f"{what} failed: {exc}. Check the ids, the region and your rights."
        ) from exc
    except BotoCoreError as exc:
        raise DeployError(
            f"{what} failed: {exc}. Check credentials, region and --endpoint-url."
        ) from exc


calling = _calling  # the public name: other packages' boto3 adapters use it too


def exists(what: str, get: Callable[[], Any], missing: type[Exception]) -> bool:
    """Whether the resource ``get`` fetches exists (``missing``: the service's not-found
    error); any other failure is a DeployError naming ``what``."""
    with _calling(what):
        try:
            get()
        except missing:
            return False
    return True


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


class Aws:
    """boto3 clients for one region/endpoint, and the calls ``featurekit deploy`` makes."""

    def __init__(self, settings: AwsSettings, report: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.report = report
        self._session = _boto3().session.Session(region_name=settings.region)

    def client(self, service: str) -> Any:
        from botocore.config import Config

        config = Config(retries={"max_attempts": 2, "mode": "standard"})
        return self._session.client(service, endpoint_url=self.settings.endpoint_url, config=config)

    def upload_artifacts(
        self, dist: Path, artifacts: str, names: Optional[Sequence[str]] = None
    ) -> list[str]:
        """Upload ``names`` (default: all) of ``dist``, checked against its manifest, and the
        manifest itself under ``artifacts``."""
        manifest = verify(dist)
        wanted = sorted(manifest["artifacts"]) if names is None else sorted(names)
        missing = [n for n in wanted if n not in manifest["artifacts"]]
        if missing:
            raise ConfigError(f"{dist / MANIFEST} does not list {', '.join(missing)}.")
        bucket, prefix = split_s3(artifacts.rstrip("/"))
        s3 = self.client("s3")
        uploaded = []
        for name in [*wanted, MANIFEST]:
            key = f"{prefix}/{name}" if prefix else name
            with _calling(f"Uploading {name} to s3://{bucket}/{key}"):
                s3.upload_file(str(dist / name), bucket, key)
            uploaded.append(f"s3://{bucket}/{key}")
        self.report(f"uploaded {len(uploaded)} artifacts to {artifacts.rstrip('/')}/")
        return uploaded

    def wait(
        self, service: str, run_id: str, get_state: Callable[[], str], done: tuple[str, ...]
    ) -> RunState:
        """Poll ``get_state`` until a terminal state or the timeout; report each change."""
        deadline = time.monotonic() + self.settings.timeout_seconds
        last = ""
        while True:
            state = get_state()
            if state != last:
                self.report(f"{service} {run_id}: {state}")
                last = state
            finished = state in done
            if finished or time.monotonic() >= deadline:
                return RunState(service, run_id, state, finished, state == done[0])
            time.sleep(self.settings.poll_seconds)

    # -- EMR on EC2 ----------------------------------------------------------------
    def add_step(self, request: Mapping[str, Any], *, wait: bool) -> RunState:
        validate_request("emr", "AddJobFlowSteps", request)
        emr = self.client("emr")
        cluster = request["JobFlowId"]
        with _calling(f"EMR AddJobFlowSteps on {cluster}"):
            step_id = emr.add_job_flow_steps(**request)["StepIds"][0]

        def state() -> str:
            with _calling(f"EMR DescribeStep {step_id}"):
                step = emr.describe_step(ClusterId=cluster, StepId=step_id)["Step"]
            return str(step["Status"]["State"])

        return self._finish("emr step", step_id, state, EMR_STEP_DONE, wait)

    # -- EMR Serverless ------------------------------------------------------------
    def start_serverless_run(self, request: Mapping[str, Any], *, wait: bool) -> RunState:
        validate_request("emr-serverless", "StartJobRun", request)
        client = self.client("emr-serverless")
        app = request["applicationId"]
        with _calling(f"EMR Serverless StartJobRun on {app}"):
            run_id = client.start_job_run(**request)["jobRunId"]

        def state() -> str:
            with _calling(f"EMR Serverless GetJobRun {run_id}"):
                run = client.get_job_run(applicationId=app, jobRunId=run_id)["jobRun"]
            return str(run["state"])

        return self._finish("emr-serverless run", run_id, state, SERVERLESS_DONE, wait)

    # -- Glue ----------------------------------------------------------------------
    def upsert_glue_job(self, request: Mapping[str, Any]) -> str:
        """Create the Glue job, or update it when it exists; returns its name."""
        validate_request("glue", "CreateJob", request)
        glue = self.client("glue")
        name = str(request["Name"])
        missing = glue.exceptions.EntityNotFoundException
        found = exists(f"Glue GetJob {name}", lambda: glue.get_job(JobName=name), missing)
        if found:
            update = {k: v for k, v in request.items() if k not in ("Name", "Tags")}
            with _calling(f"Glue UpdateJob {name}"):
                glue.update_job(JobName=name, JobUpdate=update)
        else:
            with _calling(f"Glue CreateJob {name}"):
                glue.create_job(**request)
        self.report(f"glue job {name}: {'updated' if found else 'created'}")
        return name

    def start_glue_run(self, name: str, arguments: Mapping[str, str], *, wait: bool) -> RunState:
        request = {"JobName": name, "Arguments": dict(arguments)}
        validate_request("glue", "StartJobRun", request)
        glue = self.client("glue")
        with _calling(f"Glue StartJobRun {name}"):
            run_id = glue.start_job_run(**request)["JobRunId"]

        def state() -> str:
            with _calling(f"Glue GetJobRun {run_id}"):
                return str(glue.get_job_run(JobName=name, RunId=run_id)["JobRun"]["JobRunState"])

        return self._finish("glue run", run_id, state, GLUE_DONE, wait)

    def _finish(
        self, service: str, run_id: str, state: Callable[[], str], done: tuple[str, ...], wait: bool
    ) -> RunState:
        if wait:
            return self.wait(service, run_id, state, done)
        current = state()
        self.report(f"{service} {run_id}: {current} (not waiting)")
        return RunState(service, run_id, current, current in done, current == done[0])
