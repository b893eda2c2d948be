"""`marketsync workers start`: a Celery worker of the `celery` executor profile (MARKETSYNC_EXECUTOR=celery)."""
from __future__ import annotations

import click


@click.group("workers")
def workers() -> None:
    """Celery workers that run the steps of every job under MARKETSYNC_EXECUTOR=celery."""


@workers.command("start")
@click.option("--concurrency", "-c", default=2, show_default=True, type=click.IntRange(min=1),
              help="Steps this worker runs at once (one process each).")
@click.option("--queues", "-Q", default=None, metavar="QUEUE,...",
              help="Comma-separated queues to take steps from: API pool names (letzshop_api, ebay_api, ...; a "
                   "pooled step goes to its pool's queue) and dagster (steps without a pool). Default: all.")
@click.option("--name", "-n", default=None,
              help="The worker's node name (default marketsync-<pid>@<host>); unique per worker.")
@click.option("--loglevel", "-l", default="INFO", show_default=True)
def start(concurrency: int, queues: str | None, name: str | None, loglevel: str) -> None:
    """Start a worker in this process, in the environment the code location uses (DATABASE_URL,
    MARKETSYNC_SECRET_KEYS, DAGSTER_HOME, MARKETSYNC_CELERY_BROKER / _BACKEND / _QUEUE_PREFIX). SIGTERM
    stops it after its running steps; a killed worker's steps go to another worker."""
    from marketsync.pipelines.celery_worker import start_worker

    names = [q.strip() for q in queues.split(",") if q.strip()] if queues else None
    start_worker(concurrency, names, name=name, loglevel=loglevel)
