"""Seqera Platform run records as they sit on disk, read into one ``RunRecord`` per run.

Three shapes are read:

* the archive ``tw runs dump -i ID -o run.tar.gz`` (or ``.tar.xz``) writes: ``workflow.json`` (the run),
  ``workflow-tasks.json`` (a JSON list of its tasks), ``workflow-metadata.json`` (organisation,
  workspace, labels), ``workflow-load.json`` (totals, executors), ``workflow-launch.json`` (the compute
  environment; absent for runs started outside the Platform), ``workflow-metrics.json``,
  ``service-info.json`` and, with ``--add-task-logs``/``--add-fusion-logs``, ``nextflow.log`` and
  ``tasks/<taskId>/...`` logs. Members may sit at the top of the archive or in one folder per run, so an
  archive of several unpacked dumps reads as several runs; the folder a dump was unpacked into reads too.
* the Platform API's JSON for a run combined in one object: ``workflow`` (``GET /workflow/{id}``: the run,
  or the whole response with its ``labels`` and workspace), ``tasks`` (``GET /workflow/{id}/tasks``:
  ``[{"task": {...}}, ...]``, or that response with its ``total``), ``progress`` and ``metrics``; a JSON
  list of such objects holds several runs. An archive holding such JSON files (as nf-aggregate stores them)
  reads the same.

Numbers are parsed as ``Decimal`` (``json.loads(parse_float=Decimal)``), so a task's cost is the text
Seqera wrote, exactly. Metrics, service info and logs are never parsed. What cannot be read becomes a
``Rejected`` naming the file and member: an archive cut short, a member that is not JSON, a JSON file
that is not a run record.
"""

from __future__ import annotations

import gzip
import json
import lzma
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path, PurePosixPath

from core.errors import SourceError
from ingest.workflow_runs import Rejected

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar")
JSON_SUFFIXES = (".json", ".json.gz")  # API run JSON, plain or gzipped
WORKFLOW, TASKS = "workflow.json", "workflow-tasks.json"
METADATA, LOAD, LAUNCH = "workflow-metadata.json", "workflow-load.json", "workflow-launch.json"
DUMP_MEMBERS = (WORKFLOW, TASKS, METADATA, LOAD, LAUNCH)  # what is read of a dump; the rest is skipped
NOT_RUNS = ("service-info.json", "workflow-metrics.json")  # JSON members that are never run records
HOW_TO_DUMP = "dump it again (tw runs dump -i RUN_ID -o run.tar.gz)"


@dataclass
class RunRecord:
    """One run as read: the workflow object, its task objects and what the dump or response says around them."""

    source: str  # file, and member when the run came from an archive
    workflow: dict
    tasks: list  # task objects (unwrapped from the API's {"task": {...}})
    tasks_source: str  # the file and member the tasks came from, for reasons
    labels: list = field(default_factory=list)  # [{"name": ..., "value": ..., "resource": ...}]
    workspace: str | None = None  # "organisation/workspace"
    launch: dict | None = None  # workflow-launch.json: the compute environment
    executors: list = field(default_factory=list)  # the run's executors as the load or progress record lists them
    written_bytes: object = None  # the run's writeBytes as the load or progress record gives it (its tasks' wchar)


@dataclass(frozen=True)
class Input:
    path: Path
    kind: str  # archive, folder (an unpacked dump) or json


def find_inputs(paths: Iterable[str]) -> list[Input]:
    """The run files under each path: archives, unpacked dump folders and JSON files, in a stable order."""
    found: list[Input] = []
    for text in paths:
        path = Path(text)
        if not path.exists():
            raise SourceError(f"{path} does not exist: give a tw runs dump archive, its folder, an API JSON file or a folder")
        if path.is_file():
            found.append(Input(path, "archive" if _is_archive(path) else "json"))
            continue
        dumps = {p.parent for p in path.rglob(TASKS) if (p.parent / WORKFLOW).is_file()}
        found += [Input(d, "folder") for d in sorted(dumps)]
        for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
            if _is_archive(f):
                found.append(Input(f, "archive"))
            elif f.name.endswith(JSON_SUFFIXES) and f.parent not in dumps and f.name not in NOT_RUNS:
                found.append(Input(f, "json"))
    return found


def _is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(ARCHIVE_SUFFIXES) or (not name.endswith(JSON_SUFFIXES) and tarfile.is_tarfile(path))


def read_input(item: Input) -> Iterator[RunRecord | Rejected]:
    """The runs of one input (archives and JSON lists may hold several), or why they cannot be read."""
    if item.kind == "archive":
        yield from _read_archive(item.path)
    elif item.kind == "folder":
        members = {}
        for name in DUMP_MEMBERS:
            f = item.path / name
            if f.is_file():
                members[name] = (str(f), f.read_bytes())
        yield from _dump_records(str(item.path), members, cut=None)
    else:
        try:
            raw = item.path.read_bytes()
        except OSError as exc:
            raise SourceError(f"cannot read {item.path}: {exc.strerror or exc}") from None
        if item.path.name.lower().endswith(".gz"):
            try:
                raw = gzip.decompress(raw)
            except (OSError, EOFError, zlib.error) as exc:
                yield Rejected(str(item.path), None, f"{item.path} is not whole gzip ({exc}); download or save it again", "")
                return
        yield from _api_records(str(item.path), raw)


def _loads(raw: bytes):
    return json.loads(raw, parse_float=Decimal)


def _not_json(where: str, exc: ValueError) -> str:
    detail = f"{exc.msg} at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else str(exc)
    return f"{where} is not JSON ({detail})"


_CUT = (tarfile.TarError, EOFError, OSError, lzma.LZMAError, zlib.error)


def _read_archive(path: Path) -> Iterator[RunRecord | Rejected]:
    """Read the JSON members worth reading, grouped by the folder they sit in (one run per folder)."""
    try:
        tar = tarfile.open(path, "r:*")
    except _CUT as exc:
        yield Rejected(str(path), None, f"{path} is not a readable tar archive ({exc}); {HOW_TO_DUMP}", "")
        return
    groups: dict[str, dict[str, tuple[str, bytes]]] = {}
    others: list[tuple[str, bytes]] = []  # other top-level JSON members: Platform API run records
    last = None
    cut = None
    with tar:
        try:
            for member in tar:
                last = member.name
                name = PurePosixPath(member.name)
                depth = len([p for p in name.parts if p not in (".", "")])
                if not member.isfile() or depth > 2:
                    continue
                if name.name in DUMP_MEMBERS:
                    folder = str(name.parent)
                    groups.setdefault(folder, {})[name.name] = (f"{path}:{member.name}", tar.extractfile(member).read())
                elif name.suffix == ".json" and name.name not in NOT_RUNS:
                    others.append((f"{path}:{member.name}", tar.extractfile(member).read()))
        except _CUT as exc:
            cut = f"{path} is cut short in member {last or 'the first header'} ({exc})"
    incomplete = 0  # runs the cut left without workflow.json or workflow-tasks.json (each quarantined)
    run_id = None  # of the last run read, to key the record of a cut after it
    for folder in sorted(groups):
        source = f"{path}:{folder}" if folder != "." else str(path)
        for record in _dump_records(source, groups[folder], cut):
            if cut and isinstance(record, Rejected) and record.reason.startswith(cut):
                incomplete += 1
            run_id = record.workflow.get("id") if isinstance(record, RunRecord) else run_id
            yield record
    for where, raw in others:
        yield from _api_records(where, raw)
    if cut and not incomplete:  # the cut fell after every run record read whole, or before any
        if groups or others:
            lost = "the members after it are lost, the run records before it loaded"
        else:
            lost = f"{WORKFLOW} and {TASKS} not read whole, the run is not loaded"
        yield Rejected(str(path), run_id, f"{cut}: {lost}; {HOW_TO_DUMP}", "")
    elif not groups and not others:
        yield Rejected(str(path), None, f"{path} holds no {WORKFLOW}: not a tw runs dump archive", "")


def _dump_records(source: str, members: dict[str, tuple[str, bytes]], cut: str | None) -> Iterator[RunRecord | Rejected]:
    """One run from the members of a dump: workflow.json and workflow-tasks.json are needed, the rest helps."""
    parsed: dict[str, object] = {}
    broken: list[tuple[str, str, bytes, ValueError]] = []
    for name, (where, raw) in members.items():
        try:
            parsed[name] = _loads(raw)
        except ValueError as exc:  # UnicodeDecodeError too
            broken.append((name, where, raw, exc))
    workflow = parsed.get(WORKFLOW)
    run_id = workflow.get("id") if isinstance(workflow, dict) else None
    for name, where, raw, exc in broken:
        tail = "; the run is not loaded" if name in (WORKFLOW, TASKS) else "; the run loads without it"
        yield Rejected(where, run_id, _not_json(where, exc) + tail, raw[:10000].decode("utf-8", "replace"))
    if any(name in (WORKFLOW, TASKS) for name, *_ in broken):
        return
    missing = [n for n in (WORKFLOW, TASKS) if n not in parsed]
    if cut and missing:  # members read before the cut are whole; the cut took the rest
        reason = f"{cut}: {' and '.join(missing)} not read whole, the run is not loaded; {HOW_TO_DUMP}"
        yield Rejected(source, run_id, reason, "")
        return
    if missing:
        yield Rejected(source, run_id, f"{source} has no {' and no '.join(missing)}: not a whole tw runs dump", "")
        return
    if not isinstance(workflow, dict):
        yield Rejected(members[WORKFLOW][0], None, f"{members[WORKFLOW][0]} is not a workflow object", "")
        return
    tasks = parsed[TASKS]
    if not isinstance(tasks, list):
        where = members[TASKS][0]
        yield Rejected(where, run_id, f"{where} is not a JSON list of tasks; the run is not loaded", "")
        return
    metadata = parsed.get(METADATA) if isinstance(parsed.get(METADATA), dict) else {}
    load = parsed.get(LOAD) if isinstance(parsed.get(LOAD), dict) else {}
    launch = parsed.get(LAUNCH) if isinstance(parsed.get(LAUNCH), dict) else None
    yield RunRecord(
        source=source,
        workflow=workflow,
        tasks=[_unwrap(t) for t in tasks],
        tasks_source=members[TASKS][0],
        labels=_list(metadata.get("labels")),
        workspace=_workspace(metadata.get("organizationName"), metadata.get("workspaceName")),
        launch=launch,
        executors=_list(load.get("executors")),
        written_bytes=load.get("writeBytes"),
    )


def _api_records(source: str, raw: bytes) -> Iterator[RunRecord | Rejected]:
    """Runs from the Platform API's JSON: one object (workflow, tasks, progress, metrics) or a list of them."""
    try:
        doc = _loads(raw)
    except ValueError as exc:
        yield Rejected(source, None, _not_json(source, exc) + "; nothing in it is loaded", raw[:10000].decode("utf-8", "replace"))
        return
    docs = doc if isinstance(doc, list) and doc and all(isinstance(d, dict) and "workflow" in d for d in doc) else [doc]
    for n, one in enumerate(docs):
        where = source if len(docs) == 1 else f"{source}[{n}]"
        record = _api_record(where, one)
        if isinstance(record, str):
            yield Rejected(where, None, record, raw[:2000].decode("utf-8", "replace") if len(docs) == 1 else "")
        else:
            yield record


def _api_record(source: str, doc) -> RunRecord | str:
    """A run from one combined API object, or why it is not one."""
    if not isinstance(doc, dict) or not isinstance(doc.get("workflow"), dict):
        return (
            f"{source} is not a Seqera run record: expected a tw runs dump or the Platform API's JSON "
            '{"workflow": {...}, "tasks": [{"task": {...}}], "progress": {...}}'
        )
    described = doc
    workflow = doc["workflow"]
    if isinstance(workflow.get("workflow"), dict):  # the whole GET /workflow/{id} response under "workflow"
        described, workflow = workflow, workflow["workflow"]
    tasks = doc.get("tasks")
    if isinstance(tasks, dict):  # the whole GET /workflow/{id}/tasks response: {"tasks": [...], "total": n}
        tasks = tasks.get("tasks")
    if not isinstance(tasks, list):
        return f'{source} has no tasks list: add the tasks (GET /workflow/{{id}}/tasks) as "tasks"; the run is not loaded'
    progress = doc.get("progress") or described.get("progress") or {}
    if isinstance(progress, dict) and isinstance(progress.get("progress"), dict):
        progress = progress["progress"]
    totals = progress.get("workflowProgress") if isinstance(progress, dict) else None
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    workspace = _workspace(
        described.get("orgName") or doc.get("orgName"), described.get("workspaceName") or doc.get("workspaceName")
    )
    return RunRecord(
        source=source,
        workflow=workflow,
        tasks=[_unwrap(t) for t in tasks],
        tasks_source=source,
        labels=_list(doc.get("labels") or described.get("labels")),
        workspace=workspace or (meta.get("workspace") if isinstance(meta.get("workspace"), str) else None),
        launch=doc.get("launch") if isinstance(doc.get("launch"), dict) else None,
        executors=_list(totals.get("executors")) if isinstance(totals, dict) else [],
        written_bytes=totals.get("writeBytes") if isinstance(totals, dict) else None,
    )


def _unwrap(task):
    """The API wraps each task as {"task": {...}}; a dump lists the task objects themselves."""
    if isinstance(task, dict) and isinstance(task.get("task"), dict) and len(task) == 1:
        return task["task"]
    return task


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _workspace(organisation, workspace) -> str | None:
    if not isinstance(workspace, str) or not workspace:
        return None
    return f"{organisation}/{workspace}" if isinstance(organisation, str) and organisation else workspace
