"""A Celery worker of the `celery` executor profile (`marketsync workers start`): dagster-celery's own
worker app and step task (`dagster_celery.make_app`, `dagster_celery.tasks.create_task`, what its
`dagster_celery.app` module and `dagster-celery worker start` run), built with the settings the executor
uses (pipelines/executor_profile.py) and run in the environment the code location runs in
(pipelines/environment.py): the same broker, result backend, Dagster instance and warehouse.

The worker imports the code location before it starts its pool processes, so a step's task finds the
definitions loaded (each process forked from it shares them) and a code location that cannot load stops
the worker at once, saying why, instead of failing every step it is sent.
"""
from __future__ import annotations

import os

from marketsync.pipelines.environment import ConfigurationError, prepare_environment
from marketsync.pipelines.executor_profile import EXECUTOR_ENV, backend_url, broker_url, celery_config
from marketsync.resources.celery_queues import DEFAULT_QUEUE, QUEUE_TAG, queue_name, queue_prefix


def worker_app():
    """dagster-celery's Celery app with the executor's settings and its one task, execute_plan (a step)."""
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    app = make_app(CeleryExecutor.for_cli(broker=broker_url(), backend=backend_url(),
                                          config_source=celery_config()).app_args())
    create_task(app)
    return app


def code_location_queues() -> dict[str, str]:
    """Every queue a step of the code location can be sent to, by its short name (the pool's, or
    `dagster` for steps without a pool) -> its name on the broker (with the deployment's prefix)."""
    from marketsync.pipelines.definitions import defs

    queues = {DEFAULT_QUEUE: queue_name(None)}
    for job in defs.get_repository_def().get_all_jobs():
        for op_def in job.graph.iterate_op_defs():
            if op_def.pool:
                queues[op_def.pool] = op_def.tags.get(QUEUE_TAG, queue_name(None))
    return queues


def chosen_queues(queues: list[str] | None) -> list[str]:
    """The broker names of the queues a worker consumes: those named (pools, or `dagster`), else all."""
    known = code_location_queues()
    if not queues:
        return sorted(set(known.values()))
    unknown = [name for name in queues if name not in known]
    if unknown:
        raise ConfigurationError(f"no queue {', '.join(repr(n) for n in unknown)}: the queues are "
                                 f"{', '.join(sorted(known))} (`dagster` takes the steps without a pool)")
    return sorted({known[name] for name in queues})


def start_worker(concurrency: int, queues: list[str] | None = None, name: str | None = None,
                 loglevel: str = "INFO") -> None:
    """Run a worker in this process until it is stopped (SIGTERM: it finishes its steps first)."""
    prepare_environment()
    profile = (os.environ.get(EXECUTOR_ENV) or "celery").strip().lower()
    if profile != "celery":
        raise ConfigurationError(f"a Celery worker runs the steps of the celery profile, but {EXECUTOR_ENV} "
                                 f"is '{profile}': unset it or set it to celery")
    os.environ[EXECUTOR_ENV] = "celery"
    consumed = chosen_queues(queues)  # loads the code location, before the pool processes fork
    hostname = name or f"marketsync-{queue_prefix()}{os.getpid()}@%h"
    worker_app().worker_main([
        "worker", f"--hostname={hostname}", f"--concurrency={concurrency}", f"--queues={','.join(consumed)}",
        f"--loglevel={loglevel}", "--prefetch-multiplier=1",
    ])
