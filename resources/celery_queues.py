"""Which Celery queue runs a step under the `celery` executor profile (pipelines/executor_profile.py).

A step of an op that holds an API pool goes to the Celery queue named after that pool (`letzshop_api`,
`ebay_api`, ...), every other step to the default queue `dagster`: the workers that consume a pool's
queue (`marketsync workers start --queues letzshop_api --concurrency 2`) bound how many of that API's
calls run at once on them, and a slow API never holds up the others' steps. Each pooled asset and op says
so where its pool is declared, `pool=API_POOL, op_tags=pool_queue_tags(API_POOL)` (an op: `tags=`), the
one public way Dagster gives a step a tag; tests/test_celery_profile.py proves every pooled step of every
job in the code location carries its pool's queue.

`MARKETSYNC_CELERY_QUEUE_PREFIX` (default none) is put before every queue name, so two deployments, or two
test runs, sharing one broker never take each other's steps. It is read when the code location loads: the
code server, the run workers and the Celery workers must see the same value (they share one environment).

No Celery here: a tag is plain data, and the code location loads without the `celery` extra.
"""
from __future__ import annotations

import os

# dagster_celery.tags.DAGSTER_CELERY_QUEUE_TAG, spelt out so that the definitions need no dagster-celery.
QUEUE_TAG = "dagster-celery/queue"
# dagster_celery.defaults.task_default_queue: the steps of ops without a pool.
DEFAULT_QUEUE = "dagster"
PREFIX_ENV = "MARKETSYNC_CELERY_QUEUE_PREFIX"
# Which executor runs the steps (pipelines/executor_profile.py validates it): "default" or "celery".
EXECUTOR_ENV = "MARKETSYNC_EXECUTOR"


def celery_profile() -> bool:
    """Whether this deployment runs its steps on Celery workers (MARKETSYNC_EXECUTOR=celery)."""
    return (os.environ.get(EXECUTOR_ENV) or "").strip().lower() == "celery"


def queue_prefix() -> str:
    return os.environ.get(PREFIX_ENV, "").strip()


def queue_name(pool: str | None) -> str:
    """The Celery queue of `pool`'s steps (None: the default queue), with this deployment's prefix."""
    return f"{queue_prefix()}{pool or DEFAULT_QUEUE}"


def pool_queue_tags(pool: str | None) -> dict[str, str]:
    """The op tags that send a step holding `pool` to its queue; none without a pool (the default queue)."""
    return {QUEUE_TAG: queue_name(pool)} if pool else {}
