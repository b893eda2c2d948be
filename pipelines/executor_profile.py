"""Which executor runs every job's steps, chosen by configuration alone: `MARKETSYNC_EXECUTOR`.

- unset or `default`: Dagster's default executor, each step in a process of the run's own worker (as before);
- `celery`: dagster-celery's `celery_executor`. A run's worker only orchestrates: it sends each step as a
  Celery task to RabbitMQ (`MARKETSYNC_CELERY_BROKER`, default amqp://guest:guest@127.0.0.1:5672//) and
  reads the step's events back from the result backend (`MARKETSYNC_CELERY_BACKEND`, default
  redis://127.0.0.1:6379/0); `marketsync workers start` runs them. A step holding an API pool goes to that
  pool's queue (resources/celery_queues.py).

The result backend is Redis rather than dagster-celery's default `rpc://`: with rpc:// a step's result is
a message to a reply queue of the orchestrating process's own broker connection, lost if that connection
drops and reconnects while the step runs (the run would then wait for a result that never comes); Redis
keeps each result under its task id, for any connection to read, until `result_expires` (a day).

Every process of a deployment (the code server, the daemon's run workers, the Celery workers) reads the
same environment, so they agree on the executor, the broker and the queue names. The settings the workers
and the executor share are `celery_config()`: the executor passes them to dagster-celery's Celery app
(`config_source`), and `pipelines/celery_worker.py` builds the workers' app from the same function.
"""
from __future__ import annotations

import os
from typing import Any

from marketsync.pipelines.environment import ConfigurationError
from marketsync.resources.celery_queues import EXECUTOR_ENV, queue_name

EXECUTORS = ("default", "celery")
BROKER_ENV, DEFAULT_BROKER = "MARKETSYNC_CELERY_BROKER", "amqp://guest:guest@127.0.0.1:5672//"
BACKEND_ENV, DEFAULT_BACKEND = "MARKETSYNC_CELERY_BACKEND", "redis://127.0.0.1:6379/0"


def executor_name() -> str:
    """`default` or `celery`, from MARKETSYNC_EXECUTOR; anything else is a worded ConfigurationError."""
    value = (os.environ.get(EXECUTOR_ENV) or "default").strip().lower()
    if value not in EXECUTORS:
        raise ConfigurationError(f"{EXECUTOR_ENV} must be one of {', '.join(EXECUTORS)}, not '{value}'")
    return value


def broker_url() -> str:
    return os.environ.get(BROKER_ENV) or DEFAULT_BROKER


def backend_url() -> str:
    return os.environ.get(BACKEND_ENV) or DEFAULT_BACKEND


def celery_config() -> dict[str, Any]:
    """Celery settings of the executor's app and the workers' app alike (dagster-celery adds its own
    defaults under these: prefetch 1, task priorities, the default queue's declaration)."""
    return {
        # Steps without a pool, with this deployment's queue prefix.
        "task_default_queue": queue_name(None),
        # A step's message is acknowledged when the step has ended, not when a worker takes it: a worker
        # killed mid-step (kill -9, OOM, a lost machine) leaves its message unacknowledged, and RabbitMQ
        # hands it to another worker, which runs the step again in the same run; the run does not hang
        # waiting for a step nobody runs any more. Our steps are safe to run again (every import is
        # idempotent; the outbound queue re-reads the channel before sending what may have gone out).
        "task_acks_late": True,
        # The same when only the pool process running the step dies (its worker lives on).
        "task_reject_on_worker_lost": True,
        # A worker that loses its broker connection stops the steps it runs: RabbitMQ gives their messages
        # to another worker, and one step must not run twice at the same time.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # One step at a time per worker process: a queued step waits for a free process on any worker
        # rather than behind a long step in a busy one's prefetch.
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
    }


def _source(variable: str, default: str) -> str | dict[str, str]:
    # Set: read by Dagster from the environment where the executor starts (a broker URL with a password is
    # never copied into the definitions); unset: the local default.
    return {"env": variable} if os.environ.get(variable) else default


def run_executor():
    """The executor every job of the code location runs with: None for Dagster's default, else the
    configured dagster-celery executor."""
    if executor_name() != "celery":
        return None
    try:  # dagster-celery is the `celery` extra: loaded only by the profile that uses it
        from dagster_celery import celery_executor
    except ImportError as exc:
        raise ConfigurationError(f"{EXECUTOR_ENV}=celery needs dagster-celery: pip install 'marketsync[celery]'"
                                 ) from exc
    return celery_executor.configured({
        "broker": _source(BROKER_ENV, DEFAULT_BROKER),
        "backend": _source(BACKEND_ENV, DEFAULT_BACKEND),
        "config_source": celery_config(),
    }, name="celery")
