"""``featurekit backfill`` and ``featurekit state show|reset``.

    featurekit backfill JOB --start DATE --end DATE [--chunk-days N] [--param k=v ...]
    featurekit state show JOB
    featurekit state reset JOB [--input NAME]

``state`` commands read the store without starting Spark. A reset keeps the
batch counter (so idempotent commits stay correct) and drops the bookmarks: the
next run of the job reads every unit of the reset inputs again (a windowed job
whose inputs are all reset rebuilds its partials and features from scratch).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from featurekit.errors import ConfigError
from featurekit.params import split_assignments
from featurekit.state import JobState, StateSession, open_state_store


def _store(args: argparse.Namespace) -> Any:
    from featurekit.cli.common import open_cli_warehouse

    return open_state_store(args.state, open_cli_warehouse(args))


def _describe(name: str, bookmark: dict[str, Any]) -> str:
    kind = bookmark.get("kind")
    if kind == "files":
        return f"{name}: {len(bookmark.get('files', {}))} files processed"
    if kind == "dates":
        dates = bookmark.get("dates", [])
        span = f" ({dates[0]}..{dates[-1]})" if dates else ""
        return f"{name}: {len(dates)} dates processed{span}"
    return f"{name}: Delta version {bookmark.get('version')} processed"


def _no_state(store: Any, job: str) -> str:
    """``No incremental state for JOB in STORE.`` and the jobs it has, the closest first."""
    from featurekit.cli.common import did_you_mean

    jobs = {k.split("/", 1)[0] for k in store.keys("") if k.endswith("/state")}
    hint = did_you_mean(job, jobs, "Jobs with state there")
    return f"No incremental state for {job!r} in {store.where}.{hint}"


def _has_state(store: Any, job: str) -> bool:
    return any(
        (store.get(f"{job}/state"), store.get(f"{job}/pending"), store.keys(f"{job}/backfill"))
    )


def cmd_show(args: argparse.Namespace) -> int:
    store = _store(args)
    got = store.get(f"{args.job}/state")
    if args.json:
        print(json.dumps(got.doc if got else None, indent=2, sort_keys=True))
        return 0
    if got is None:
        print(_no_state(store, args.job))
    else:
        state = JobState.from_doc(got.doc)
        print(f"{args.job}: batch {state.batch}, last run {state.run_id} at {state.updated_at}")
        if state.horizon:
            print(f"  partials up to {state.horizon}")
        for name, bookmark in sorted(state.inputs.items()):
            print(f"  {_describe(name, bookmark)}")
    if store.get(f"{args.job}/pending") is not None:
        print(
            "  a batch is pending (a run died or failed between its commits); the next run "
            "finishes or drops it"
        )
    for key in store.keys(f"{args.job}/backfill"):
        doc = store.get(key)
        done = len(doc.doc.get("done", [])) if doc else 0
        status = "finished" if doc and "finished_at" in doc.doc else "in progress"
        print(f"  backfill {key.rsplit('/', 1)[-1]}: {done} chunks done, {status}")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    store = _store(args)
    if not _has_state(store, args.job):  # a typo: nothing to reset, and nothing written
        raise ConfigError(f"{_no_state(store, args.job)} Nothing to reset.")
    with StateSession(store, args.job, run_id="featurekit-state-reset") as session:
        state = session.state
        if args.input is not None and args.input not in state.inputs:
            raise ConfigError(
                f"Job {args.job!r} keeps no state for input {args.input!r}; inputs with "
                f"state: {sorted(state.inputs) or 'none'}."
            )
        names = [args.input] if args.input else sorted(state.inputs)
        for name in names:
            state.inputs.pop(name, None)
        if not state.inputs:
            state.horizon = None
        if session.pending is not None:
            session.drop_pending()
        session.save(state)
        if args.input is None:
            for key in store.keys(f"{args.job}/backfill"):
                store.delete(key)
    if args.json:
        print(json.dumps({"job": args.job, "reset": names, "batch": state.batch}))
    else:
        print(f"Reset {', '.join(names) or 'nothing'} of {args.job!r} (batch stays {state.batch}).")
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from featurekit.cli.common import local_runtime
    from featurekit.cli.jobs import has_rulesets, uses_iceberg
    from featurekit.job import make_context
    from featurekit.registry import get_job
    from featurekit.run.backfill import backfill, check_parallel
    from featurekit.run.plan import plan_chunks

    job = get_job(args.job)
    params = split_assignments(args.param or [])
    # dates, chunks and params checked before Spark starts
    make_context(job, "local", params=params, start=args.start, end=args.end)
    plan_chunks(args.start, args.end, args.chunk_days)
    check_parallel(job(), args.parallel)
    # as `featurekit run` does: Deequ's jars for rulesets, Iceberg's runtime for its tables
    runtime = local_runtime(args, quality=has_rulesets(job), iceberg=uses_iceberg(job, args))
    if args.state is not None:
        runtime.storage.state_store = _store(args)
    result = backfill(
        job(),
        runtime,
        start=args.start,
        end=args.end,
        chunk_days=args.chunk_days,
        params=params,
        progress=None if args.quiet else sys.stderr,
        parallel=args.parallel,
    )
    if args.json:
        doc = {
            "job": args.job,
            "start": args.start,
            "end": args.end,
            "key": result.key,
            "ran": [f"{a}..{b}" for a, b in result.ran],
            "skipped": [f"{a}..{b}" for a, b in result.skipped],
            "runs": [record.to_json() for record in result.records],
        }
        print(json.dumps(doc, indent=2, default=str))
        return 0
    print(
        f"backfill {args.job} {args.start}..{args.end}: {len(result.ran)} chunks run, "
        f"{len(result.skipped)} already done."
    )
    return 0


def add_commands(sub: Any, add_runtime_args: Callable[[argparse.ArgumentParser], None]) -> None:
    from featurekit.cli.common import parse_date

    def with_state(p: argparse.ArgumentParser) -> None:
        add_runtime_args(p)  # includes --state

    p = sub.add_parser("backfill", help="rebuild a date range in resumable chunks")
    p.add_argument("job")
    p.add_argument("--start", type=parse_date, required=True)
    p.add_argument("--end", type=parse_date, required=True)
    p.add_argument("--chunk-days", type=int, default=7, help="days per chunk (default 7)")
    p.add_argument(
        "--parallel",
        type=int,
        default=1,
        metavar="N",
        help="run up to N chunks at once, as concurrent Spark jobs of one application; their "
        "commits take turns, each replacing its own dates (default 1; jobs with incremental "
        "inputs run one chunk at a time)",
    )
    p.add_argument("--param", action="append", metavar="NAME=VALUE", help="job parameter")
    p.add_argument("--json", action="store_true", help="print chunks run and their run records")
    with_state(p)
    p.set_defaults(handler=cmd_backfill)

    state = sub.add_parser("state", help="show or reset a job's incremental state")
    ssub = state.add_subparsers(dest="state_command", required=True, metavar="ACTION")
    p = ssub.add_parser("show", help="bookmarks, pending batch and backfills of a job")
    p.add_argument("job")
    p.add_argument("--json", action="store_true", help="print the state document")
    with_state(p)
    p.set_defaults(handler=cmd_show)
    p = ssub.add_parser("reset", help="forget bookmarks: the next run reads everything again")
    p.add_argument("job")
    p.add_argument("--input", help="reset only this input")
    p.add_argument("--json", action="store_true", help="print what was reset as JSON")
    with_state(p)
    p.set_defaults(handler=cmd_reset)
