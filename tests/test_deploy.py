"""deploy/ (Kubernetes) validated offline: no cluster, no Docker daemon, no helm, no network except PyPI for the
image's install step.

- The cluster's instance config (deploy/dagster-k8s.yaml) loads as a Dagster instance config, and each of its
  configurable classes (the K8sRunLauncher first) accepts its config under the class's own schema.
- From that config, dagster-k8s builds the Kubernetes Job of a run's pod: our image, Secrets and resources.
- The Helm values use keys Dagster's chart knows (Kubernetes fields checked against the Kubernetes client's
  models), render to the instance config, and keep dagster.yaml's tag limits and pools.
- The manifests pass `kubectl apply --dry-run=client` and name only fields Kubernetes knows.
- The Dockerfile's install step, run as a plain pip install into a fresh virtualenv, installs marketsync alone
  at pyproject's pins, and the CMD's code location loads from it in production (e2e: PyPI, minutes).
"""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import kubernetes.client
import pytest
import yaml
from dagster import DagsterInvalidConfigError, DagsterRun, job, op, validate_run_config
from dagster_k8s import K8sRunLauncher, construct_dagster_k8s_job

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
INSTANCE = DEPLOY / "dagster-k8s.yaml"
VALUES = DEPLOY / "helm" / "values.yaml"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))
DOCKERFILE = DEPLOY / "Dockerfile"
# What deploy/README.md installs: `helm upgrade --install dagster dagster/dagster -n marketsync ...`.
RELEASE, NAMESPACE = "dagster", "marketsync"
CHART_DAGSTER_HOME = "/opt/dagster/dagster_home"  # the chart's default global.dagsterHome
SECRET = "marketsync-secrets"
# Postgres's defaults: max_connections 100, of which superuser_reserved_connections 3. The allowance for
# Dagster's own storage (dagster-postgres opens a connection per call, no pool) and for people is
# provisional until the fleet benchmark measures the peak (deploy/README.md, "Capacity plan").
POSTGRES_MAX_CONNECTIONS, POSTGRES_RESERVED, DAGSTER_AND_PEOPLE_ALLOWANCE = 100, 3, 30


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module")
def instance() -> dict:
    return _yaml(INSTANCE)


@pytest.fixture(scope="module")
def values() -> dict:
    return _yaml(VALUES)


# ------------------------------------------------------------------ the instance config against Dagster's schemas

def _validated(schema: Any, config: Any) -> Any:
    """`config` processed under `schema` by Dagster's public config machinery: the schema becomes an op's config
    schema and `validate_run_config` processes it, as Dagster processes a configurable class's config when an
    instance loads it (env sources resolved, defaults filled in). Raises DagsterInvalidConfigError."""
    @op(name="probe", config_schema=schema)
    def probe(_):
        pass

    @job(name="config_probe")
    def config_probe():
        probe()

    return validate_run_config(config_probe, {"ops": {"probe": {"config": config}}})["ops"]["probe"]["config"]


def _configurable_class(section: dict) -> type:
    import importlib

    # The chart writes `dagster.core.…`, which Dagster reads as `dagster._core.…` (ConfigurableClassData).
    module = re.sub(r"^dagster\.core\b", "dagster._core", section["module"])
    return getattr(importlib.import_module(module), section["class"])


@pytest.fixture
def storage_password(monkeypatch):
    """The chart gives each pod DAGSTER_PG_PASSWORD from its Postgres Secret; here, a stand-in."""
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "stand-in")


def test_the_cluster_instance_config_loads_as_a_dagster_instance_config():
    # No public route: the only public way to load an instance yaml, DagsterInstance.from_config, also opens
    # its storages (the cluster's Postgres) and builds its run launcher (the cluster's API); this is the
    # schema check and the cross-section rules (e.g. `concurrency > runs` against the run coordinator's own
    # limits) that it runs first.
    from dagster._core.instance.config import dagster_instance_config

    config, custom_class = dagster_instance_config(str(DEPLOY), INSTANCE.name)
    assert custom_class is None
    assert config["run_launcher"]["class"] == "K8sRunLauncher"
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"


CONFIGURABLE_SECTIONS = ("run_launcher", "run_coordinator", "scheduler", "run_storage", "event_log_storage",
                         "schedule_storage", "compute_logs")


@pytest.mark.parametrize("section", CONFIGURABLE_SECTIONS)
def test_each_class_of_the_instance_accepts_its_config(instance, section, storage_password):
    klass = _configurable_class(instance[section])
    _validated(klass.config_type(), instance[section].get("config", {}))


def test_the_k8s_run_launcher_config_validates_against_its_schema_and_a_wrong_key_does_not(instance,
                                                                                            storage_password):
    config = instance["run_launcher"]["config"]
    processed = _validated(K8sRunLauncher.config_type(), config)
    assert processed["env_secrets"] == [SECRET]
    assert processed["run_k8s_config"]["container_config"]["resources"]["requests"]
    # The check can fail: a misspelt field and a wrong type are refused.
    with pytest.raises(DagsterInvalidConfigError, match="env_secret"):
        _validated(K8sRunLauncher.config_type(), {**config, "env_secret": [SECRET]})
    with pytest.raises(DagsterInvalidConfigError, match="job_namespace"):
        _validated(K8sRunLauncher.config_type(), {**config, "job_namespace": ["marketsync"]})


# ------------------------------------------------------------------------------ the Job of a run's pod, offline

IMAGE = "registry.example.com/marketsync/code-location:0.1.0"


def _launcher(instance: dict, tmp_path: Path) -> K8sRunLauncher:
    """The cluster's K8sRunLauncher built from the instance config, except that it reads a kubeconfig of a
    server it never contacts instead of the pod's in-cluster credentials."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(_kubeconfig("https://127.0.0.1:9")))
    config = _validated(K8sRunLauncher.config_type(), instance["run_launcher"]["config"])
    return K8sRunLauncher.from_config_value(None, {**config, "load_incluster_config": False,
                                                   "kubeconfig_file": str(kubeconfig)})


def _run_worker_job(launcher: K8sRunLauncher, tags: dict[str, str] | None = None) -> dict:
    """The Job the launcher submits for a run (dagster_k8s's own construction; only the API call is left out)."""
    run = DagsterRun(job_name="letzshop_orders_import", run_id="0123abcd-0000-4000-8000-000000000000",
                     tags=tags or {})
    context = launcher.get_container_context_for_run(run)
    job_config = context.get_k8s_job_config(job_image=IMAGE, run_launcher=launcher)
    built = construct_dagster_k8s_job(job_config, args=["dagster", "api", "execute_run", "{}"],
                                      job_name="dagster-run-0123abcd", pod_name="dagster-run-0123abcd",
                                      user_defined_k8s_config=context.run_k8s_config, component="run_worker")
    return kubernetes.client.ApiClient().sanitize_for_serialization(built)


def test_a_run_pod_gets_our_image_secrets_environment_and_resources(instance, values, tmp_path, storage_password):
    k8s_values = values["runLauncher"]["config"]["k8sRunLauncher"]
    launcher = _launcher(instance, tmp_path)
    assert launcher.job_namespace == NAMESPACE
    manifest = _run_worker_job(launcher)
    pod = manifest["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["image"] == IMAGE
    assert container["resources"] == k8s_values["runK8sConfig"]["containerConfig"]["resources"]
    assert {"secretRef": {"name": SECRET}} in container["envFrom"]
    env = {e["name"]: e for e in container["env"]}
    assert env["MARKETSYNC_ENV"]["value"] == "production"
    assert env["DAGSTER_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT"]["value"] == "1"
    assert env["DAGSTER_PG_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": values["global"]["postgresqlSecretName"], "key": "postgresql-password"}
    assert env["DAGSTER_HOME"]["value"] == CHART_DAGSTER_HOME
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001}
    assert pod["serviceAccountName"] == RELEASE
    assert manifest["spec"]["ttlSecondsAfterFinished"] == 86400
    # The run's pod gets the instance in its arguments (execute_run's instance ref), whose storage password
    # it reads from DAGSTER_PG_PASSWORD above.
    assert container["args"][:3] == ["dagster", "api", "execute_run"]


def test_a_jobs_dagster_k8s_config_tag_overrides_the_run_pods_resources(instance, tmp_path, storage_password):
    bigger = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}
    tag = json.dumps({"container_config": {"resources": bigger}})
    manifest = _run_worker_job(_launcher(instance, tmp_path), tags={"dagster-k8s/config": tag})
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == bigger
    assert {"secretRef": {"name": SECRET}} in container["envFrom"]


# ------------------------------------------------------------------------------- the Helm values and the chart

ANY = object()  # a subtree the chart passes through without a schema of its own


def _k8s(model: str) -> str:
    return f"k8s:{model}"


IMAGE_KEYS = {"repository": None, "tag": None, "pullPolicy": None, "digest": None}
# The keys of Dagster's chart for the parts our values use, as read from its schema's source in
# dagster-io/dagster (helm/dagster/schema, recent versions; not the 1.13.27 chart package, which is not here);
# a value that is a Kubernetes object is checked against the Kubernetes client's model instead.
USER_DEPLOYMENT = {
    "name": None, "image": IMAGE_KEYS, "dagsterApiGrpcArgs": [None], "codeServerArgs": [None],
    "includeConfigInLaunchedRuns": {"enabled": None}, "deploymentNamespace": None, "port": None,
    "replicaCount": None, "env": ANY, "envConfigMaps": [_k8s("V1ConfigMapEnvSource")],
    "envSecrets": [_k8s("V1SecretEnvSource")], "annotations": ANY, "nodeSelector": ANY,
    "affinity": _k8s("V1Affinity"), "tolerations": [_k8s("V1Toleration")],
    "podSecurityContext": _k8s("V1PodSecurityContext"), "securityContext": _k8s("V1SecurityContext"),
    "resources": _k8s("V1ResourceRequirements"), "livenessProbe": ANY, "readinessProbe": ANY,
    "startupProbe": ANY, "labels": ANY, "volumeMounts": [_k8s("V1VolumeMount")], "volumes": [_k8s("V1Volume")],
    "schedulerName": None,
}
K8S_RUN_LAUNCHER = {
    "image": IMAGE_KEYS, "imagePullPolicy": None, "jobNamespace": None, "loadInclusterConfig": None,
    "kubeconfigFile": None, "envConfigMaps": [_k8s("V1ConfigMapEnvSource")],
    "envSecrets": [_k8s("V1SecretEnvSource")], "envVars": [None], "volumeMounts": [_k8s("V1VolumeMount")],
    "volumes": [_k8s("V1Volume")], "labels": ANY, "failPodOnRunFailure": None,
    "resources": _k8s("V1ResourceRequirements"), "schedulerName": None, "securityContext": _k8s("V1SecurityContext"),
    "runK8sConfig": {"containerConfig": _k8s("V1Container"), "podSpecConfig": _k8s("V1PodSpec"),
                     "podTemplateSpecMetadata": _k8s("V1ObjectMeta"), "jobSpecConfig": _k8s("V1JobSpec"),
                     "jobMetadata": _k8s("V1ObjectMeta")},
}
QUEUED_RUN_COORDINATOR = {"maxConcurrentRuns": None, "tagConcurrencyLimits": ANY, "dequeueIntervalSeconds": None,
                          "dequeueNumWorkers": None, "dequeueUseThreads": None,
                          "blockOpConcurrencyLimitedRuns": {"enabled": None, "opConcurrencySlotBuffer": None}}
THREADS = {"useThreads": None, "numWorkers": None, "numSubmitWorkers": None}
DAEMON = {
    "enabled": None, "image": IMAGE_KEYS, "heartbeatTolerance": None,
    "runCoordinator": {"enabled": None, "type": None,
                       "config": {"queuedRunCoordinator": QUEUED_RUN_COORDINATOR, "customRunCoordinator": ANY}},
    "env": ANY, "envConfigMaps": [_k8s("V1ConfigMapEnvSource")], "envSecrets": [_k8s("V1SecretEnvSource")],
    "deploymentLabels": ANY, "labels": ANY, "nodeSelector": ANY, "affinity": _k8s("V1Affinity"),
    "tolerations": [_k8s("V1Toleration")], "podSecurityContext": _k8s("V1PodSecurityContext"),
    "securityContext": _k8s("V1SecurityContext"), "resources": _k8s("V1ResourceRequirements"),
    "checkDbReadyInitContainer": None, "livenessProbe": ANY, "readinessProbe": ANY, "startupProbe": ANY,
    "annotations": ANY,
    # What the chart's instance template reads from runMonitoring (a free mapping in its schema).
    "runMonitoring": {"enabled": None, "startTimeoutSeconds": None, "cancelTimeoutSeconds": None,
                      "maxResumeRunAttempts": None, "pollIntervalSeconds": None,
                      "freeSlotsAfterRunEndSeconds": None, "maxRuntimeSeconds": None},
    "runRetries": {"enabled": None, "maxRetries": None, "retryOnAssetOrOpFailure": None},
    "sensors": THREADS, "schedules": THREADS, "backfills": THREADS, "schedulerName": None, "logFormat": None,
    "volumeMounts": [_k8s("V1VolumeMount")], "volumes": [_k8s("V1Volume")],
    "initContainerResources": _k8s("V1ResourceRequirements"), "extraContainers": [_k8s("V1Container")],
    "extraPrependedInitContainers": [_k8s("V1Container")],
}
CHART = {
    "global": {"postgresqlSecretName": None, "dagsterHome": None, "serviceAccountName": None,
               "celeryConfigSecretName": None, "dagsterInstanceConfigMap": None},
    "generatePostgresqlPasswordSecret": None, "generateCeleryConfigSecret": None,
    "postgresql": {"postgresqlScheme": None, "image": ANY, "enabled": None, "postgresqlHost": None,
                   "postgresqlUsername": None, "postgresqlPassword": None, "postgresqlDatabase": None,
                   "postgresqlParams": ANY, "service": {"port": None}},
    "dagster-user-deployments": {"enabled": None, "enableSubchart": None,
                                 "imagePullSecrets": [_k8s("V1LocalObjectReference")],
                                 "deployments": [USER_DEPLOYMENT]},
    "runLauncher": {"type": None, "config": {"k8sRunLauncher": K8S_RUN_LAUNCHER, "celeryK8sRunLauncher": ANY,
                                             "customRunLauncher": ANY}},
    "dagsterDaemon": DAEMON,
    "concurrency": {"enabled": None,
                    "pools": {"defaultLimit": None, "granularity": None, "opGranularityRunBuffer": None},
                    "runs": {"maxConcurrentRuns": None,
                             "tagConcurrencyLimits": [{"key": None, "value": ANY, "limit": None}]}},
    "computeLogManager": {"type": None, "config": ANY},
    "telemetry": {"enabled": None},
    "retention": {"enabled": None, "sensor": ANY, "schedule": ANY, "autoMaterialize": ANY},
    "dagsterWebserver": ANY, "rabbitmq": ANY, "redis": ANY, "flower": ANY, "ingress": ANY,
    "imagePullSecrets": [_k8s("V1LocalObjectReference")], "scheduler": ANY, "pythonLogs": ANY, "busybox": ANY,
    "migrate": ANY, "serviceAccount": ANY, "additionalInstanceConfig": ANY,
}


def _k8s_unknown_fields(value: Any, type_name: str, path: str) -> list[str]:
    """The fields of `value` a Kubernetes object of `type_name` does not have (the client's generated models
    carry every field's name and type), recursively; [] when all are known."""
    if match := re.fullmatch(r"list\[(.+)\]", type_name):
        items = value if isinstance(value, list) else [value]
        return [e for i, item in enumerate(items) for e in _k8s_unknown_fields(item, match[1], f"{path}[{i}]")]
    if match := re.fullmatch(r"dict[\[(][^,]+,\s*(.+)[\])]", type_name):
        if not isinstance(value, dict):
            return [f"{path}: a mapping expected"]
        return [e for k, v in value.items() for e in _k8s_unknown_fields(v, match[1], f"{path}.{k}")]
    model = getattr(kubernetes.client.models, type_name, None)
    if model is None:  # str, int, bool, object: a leaf
        return []
    if not isinstance(value, dict):
        return [f"{path}: a {type_name} mapping expected"]
    by_json_name = {json_name: attr for attr, json_name in model.attribute_map.items()}
    errors: list[str] = []
    for key, item in value.items():
        if key not in by_json_name:
            errors.append(f"{path}.{key}: not a field of {type_name}")
        else:
            errors += _k8s_unknown_fields(item, model.openapi_types[by_json_name[key]], f"{path}.{key}")
    return errors


def _chart_unknown_keys(value: Any, spec: Any, path: str) -> list[str]:
    if spec is ANY or spec is None:
        return [] if spec is ANY or not isinstance(value, dict) else [f"{path}: a value expected, not a mapping"]
    if isinstance(spec, str):
        return _k8s_unknown_fields(value, spec.removeprefix("k8s:"), path)
    if isinstance(spec, list):
        if not isinstance(value, list):
            return [f"{path}: a list expected"]
        return [e for i, item in enumerate(value) for e in _chart_unknown_keys(item, spec[0], f"{path}[{i}]")]
    if not isinstance(value, dict):
        return [f"{path}: a mapping expected"]
    errors: list[str] = []
    for key, item in value.items():
        if key not in spec:
            errors.append(f"{path}.{key}: not a key of the chart")
        else:
            errors += _chart_unknown_keys(item, spec[key], f"{path}.{key}")
    return errors


def test_the_key_checks_can_fail():
    assert _k8s_unknown_fields({"envFrom": [{"secretRef": {"nmae": "x"}}]}, "V1Container", "c") == [
        "c.envFrom[0].secretRef.nmae: not a field of V1SecretEnvSource"]
    assert _chart_unknown_keys({"runLauncher": {"config": {"k8sRunLauncher": {"envSecret": []}}}}, CHART, "") == [
        ".runLauncher.config.k8sRunLauncher.envSecret: not a key of the chart"]


def test_the_helm_values_use_keys_the_chart_knows(values):
    assert _chart_unknown_keys(values, CHART, "values") == []


def test_the_helm_values_deploy_our_image_and_module_as_the_code_location(values):
    (deployment,) = values["dagster-user-deployments"]["deployments"]
    cmd = _final_stage_cmd()
    assert cmd[:3] == ["dagster", "code-server", "start"]
    # The chart runs `dagster code-server start -h 0.0.0.0 -p <port>` + codeServerArgs.
    assert deployment["codeServerArgs"] == cmd[cmd.index("-m"):]
    assert str(deployment["port"]) == cmd[cmd.index("-p") + 1]
    assert f"{deployment['image']['repository']}:{deployment['image']['tag']}" == IMAGE
    assert deployment["image"]["tag"] != "latest"
    assert deployment["env"]["MARKETSYNC_ENV"] == "production"
    assert deployment["envSecrets"] == [{"name": SECRET}]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert "MARKETSYNC_ENV=production" in values["runLauncher"]["config"]["k8sRunLauncher"]["envVars"]
    assert deployment["podSecurityContext"]["runAsUser"] == int(_dockerfile_user())


def _rendered_instance(values: dict) -> dict:
    """What the chart's instance template makes of our values, for the settings our values give (release
    RELEASE in NAMESPACE): the expectation deploy/dagster-k8s.yaml must meet."""
    pg = values["postgresql"]
    postgres = {"postgres_db": {"username": pg["postgresqlUsername"], "password": {"env": "DAGSTER_PG_PASSWORD"},
                                "hostname": pg["postgresqlHost"], "db_name": pg["postgresqlDatabase"],
                                "port": pg["service"]["port"], "params": pg["postgresqlParams"]}}
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    launcher: dict[str, Any] = {
        "load_incluster_config": k8s["loadInclusterConfig"], "job_namespace": k8s.get("jobNamespace") or NAMESPACE,
        "image_pull_policy": k8s["imagePullPolicy"], "service_account_name": RELEASE,
        "dagster_home": values.get("global", {}).get("dagsterHome", CHART_DAGSTER_HOME),
        "instance_config_map": f"{RELEASE}-instance",
        "postgres_password_secret": values["global"]["postgresqlSecretName"]}
    optional = {"envConfigMaps": ("env_config_maps", lambda v: [m["name"] for m in v]),
                "envSecrets": ("env_secrets", lambda v: [s["name"] for s in v]),
                "envVars": ("env_vars", list), "volumeMounts": ("volume_mounts", list), "volumes": ("volumes", list),
                "labels": ("labels", dict), "resources": ("resources", dict),
                "failPodOnRunFailure": ("fail_pod_on_run_failure", bool),
                "schedulerName": ("scheduler_name", str), "securityContext": ("security_context", dict)}
    for key, (name, convert) in optional.items():
        if k8s.get(key):
            launcher[name] = convert(k8s[key])
    if k8s.get("runK8sConfig"):
        launcher["run_k8s_config"] = {re.sub(r"(?<!^)([A-Z])", r"_\1", k).lower(): v
                                      for k, v in k8s["runK8sConfig"].items() if v}
    daemon = values["dagsterDaemon"]
    queued = daemon["runCoordinator"]["config"]["queuedRunCoordinator"]
    # With `concurrency` on, the run limits live there, not in the run coordinator's config.
    assert values["concurrency"]["enabled"] and "maxConcurrentRuns" not in queued and not queued.get(
        "tagConcurrencyLimits")
    coordinator_config = {name: queued[key] for key, name in (("dequeueIntervalSeconds", "dequeue_interval_seconds"),
                                                               ("dequeueUseThreads", "dequeue_use_threads"),
                                                               ("dequeueNumWorkers", "dequeue_num_workers"))
                          if queued.get(key)}
    monitoring = daemon["runMonitoring"]
    concurrency = values["concurrency"]
    return {
        "scheduler": {"module": "dagster._core.scheduler", "class": "DagsterDaemonScheduler"},
        "schedule_storage": {"module": "dagster_postgres.schedule_storage", "class": "PostgresScheduleStorage",
                             "config": postgres},
        "run_storage": {"module": "dagster_postgres.run_storage", "class": "PostgresRunStorage", "config": postgres},
        "event_log_storage": {"module": "dagster_postgres.event_log", "class": "PostgresEventLogStorage",
                              "config": postgres},
        "run_launcher": {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": launcher},
        "run_coordinator": {"module": "dagster.core.run_coordinator", "class": "QueuedRunCoordinator",
                            **({"config": coordinator_config} if coordinator_config else {})},
        "compute_logs": {"NoOpComputeLogManager": {
            "module": "dagster._core.storage.noop_compute_log_manager", "class": "NoOpComputeLogManager",
        }}[values["computeLogManager"]["type"]],
        "run_monitoring": {"enabled": monitoring["enabled"],
                           "start_timeout_seconds": monitoring["startTimeoutSeconds"],
                           "cancel_timeout_seconds": monitoring["cancelTimeoutSeconds"],
                           "max_resume_run_attempts": monitoring["maxResumeRunAttempts"],
                           "poll_interval_seconds": monitoring["pollIntervalSeconds"],
                           "free_slots_after_run_end_seconds": monitoring["freeSlotsAfterRunEndSeconds"]},
        "sensors": {"use_threads": daemon["sensors"]["useThreads"], "num_workers": daemon["sensors"]["numWorkers"],
                    "num_submit_workers": daemon["sensors"]["numSubmitWorkers"]},
        "schedules": {"use_threads": daemon["schedules"]["useThreads"],
                      "num_workers": daemon["schedules"]["numWorkers"]},
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
        "concurrency": {"pools": {"default_limit": concurrency["pools"]["defaultLimit"]},
                        "runs": {"max_concurrent_runs": concurrency["runs"]["maxConcurrentRuns"],
                                 "tag_concurrency_limits": concurrency["runs"]["tagConcurrencyLimits"]}},
    }


def test_the_instance_config_is_what_the_helm_values_render(values, instance):
    expected = _rendered_instance(values)
    # Neither renders a section of its own.
    assert values["dagsterDaemon"]["runRetries"]["enabled"] is False and values["retention"]["enabled"] is False
    assert {key: instance.get(key) for key in expected} == expected
    assert set(instance) == set(expected), "a section of the instance config comes from no value"


def test_the_tag_limits_and_pools_are_dagster_yaml_s(values, instance):
    local = _yaml(REPO / "dagster.yaml")["concurrency"]
    limits = local["runs"]["tag_concurrency_limits"]
    assert {limit["key"] for limit in limits} >= {"marketsync/store", "marketsync/stock_channel",
                                                 "marketsync/outbound_account"}
    assert values["concurrency"]["runs"]["tagConcurrencyLimits"] == limits
    assert instance["concurrency"]["runs"]["tag_concurrency_limits"] == limits
    assert values["concurrency"]["pools"]["defaultLimit"] == local["pools"]["default_limit"]
    assert instance["concurrency"]["pools"] == local["pools"]


def test_dagsters_storage_named_twice_is_one_database(values):
    """The chart reaches Dagster's storage by host, user and database (values: postgresql); the `marketsync`
    command in a pod by MARKETSYNC_DAGSTER_DATABASE_URL. Both must name the same database."""
    from sqlalchemy.engine import make_url

    secret = next(doc for doc in _documents(DEPLOY / "k8s" / "secrets.example.yaml")
                  if doc["metadata"]["name"] == SECRET)
    url = make_url(secret["stringData"]["MARKETSYNC_DAGSTER_DATABASE_URL"])
    pg = values["postgresql"]
    assert url.drivername == "postgresql+psycopg2"  # dagster-postgres's driver (resources/database.py)
    assert (url.host, url.port, url.database, url.username) == (
        pg["postgresqlHost"], pg["service"]["port"], pg["postgresqlDatabase"], pg["postgresqlUsername"])
    assert dict(url.query) == pg["postgresqlParams"]
    assert pg["enabled"] is False and values["generatePostgresqlPasswordSecret"] is False


def test_warehouse_connections_at_the_run_limit_fit_in_postgres(values):
    """Every run's step process and the code server each hold a warehouse pool (one engine per process,
    resources/database.py); at maxConcurrentRuns their maxima must fit beside Postgres's reserved slots and
    Dagster's own connections."""
    from marketsync.resources.database import engine_for

    pool = engine_for("postgresql://capacity@plan.invalid/warehouse").pool  # nothing connects
    per_process = pool.size() + pool._max_overflow  # QueuePool keeps its maximum overflow here; no public getter
    k8s = values["runLauncher"]["config"]["k8sRunLauncher"]
    steps = int(dict(v.split("=", 1) for v in k8s["envVars"])["DAGSTER_MULTIPROCESS_EXECUTOR_MAX_CONCURRENT"])
    runs = values["concurrency"]["runs"]["maxConcurrentRuns"]
    code_servers = sum(d.get("replicaCount", 1) for d in values["dagster-user-deployments"]["deployments"])
    warehouse = (runs * steps + code_servers) * per_process
    budget = POSTGRES_MAX_CONNECTIONS - POSTGRES_RESERVED - DAGSTER_AND_PEOPLE_ALLOWANCE
    assert warehouse <= budget, (f"{runs} runs x {steps} step x {per_process} + {code_servers} code server x "
                                 f"{per_process} = {warehouse} warehouse connections > {budget}")


# ---------------------------------------------------------------------------------------------- the manifests

def test_the_secret_template_holds_placeholders_only():
    import base64

    for doc in _documents(DEPLOY / "k8s" / "secrets.example.yaml"):
        assert doc["kind"] == "Secret" and "data" not in doc, "stringData only, so a placeholder stays readable"
        for key, value in doc["stringData"].items():
            assert "REPLACE_ME" in value, f"{doc['metadata']['name']}.{key} is not a placeholder"
            for token in re.findall(r"[A-Za-z0-9_-]{43}=", value):  # what a Fernet key looks like
                assert len(base64.urlsafe_b64decode(token)) != 32, f"{key} holds a key"


def test_the_manifests_use_only_fields_kubernetes_knows():
    manifests = [(path.name, doc) for path in MANIFESTS for doc in _documents(path)]
    assert {doc["kind"] for _, doc in manifests} == {"Namespace", "Secret", "Job"}
    for name, doc in manifests:
        assert doc["apiVersion"] in ("v1", "batch/v1")
        fields = {k: v for k, v in doc.items() if k not in ("apiVersion", "kind")}
        assert _k8s_unknown_fields(fields, f"V1{doc['kind']}", f"{name}:{doc['kind']}") == []
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == NAMESPACE
    job_doc = next(doc for _, doc in manifests if doc["kind"] == "Job")
    container = job_doc["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == IMAGE and {"secretRef": {"name": SECRET}} in container["envFrom"]


# A Kubernetes API server's discovery for the kinds in deploy/ (and the run pod's Job): what `kubectl apply`
# asks before it can map a manifest to a resource. Every object is "not found", so apply would create it.
CORE_RESOURCES = [("namespaces", "Namespace", False), ("secrets", "Secret", True),
                  ("configmaps", "ConfigMap", True), ("serviceaccounts", "ServiceAccount", True)]
BATCH_RESOURCES = [("jobs", "Job", True)]


def _resource_list(group_version: str, resources) -> dict:
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
            "resources": [{"name": name, "singularName": kind.lower(), "namespaced": namespaced, "kind": kind,
                           "verbs": ["create", "get", "list", "patch", "update", "delete"]}
                          for name, kind, namespaced in resources]}


class _Discovery(BaseHTTPRequestHandler):
    ANSWERS: ClassVar[dict[str, dict]] = {
        "/api": {"kind": "APIVersions", "versions": ["v1"],
                 "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
            "name": "batch", "versions": [{"groupVersion": "batch/v1", "version": "v1"}],
            "preferredVersion": {"groupVersion": "batch/v1", "version": "v1"}}]},
        "/api/v1": _resource_list("v1", CORE_RESOURCES),
        "/apis/batch/v1": _resource_list("batch/v1", BATCH_RESOURCES),
    }

    def do_GET(self):
        path = urlsplit(self.path).path
        body, status = self.ANSWERS.get(path), 200
        if body is None:
            body, status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound",
                            "code": 404, "message": f"{path} not found"}, 404
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def _kubeconfig(server: str) -> dict:
    return {"apiVersion": "v1", "kind": "Config", "current-context": "offline",
            "clusters": [{"name": "offline", "cluster": {"server": server}}],
            "contexts": [{"name": "offline", "context": {"cluster": "offline", "user": "offline"}}],
            "users": [{"name": "offline", "user": {}}]}


@contextmanager
def _discovery_only_api_server(tmp_path: Path) -> Iterator[dict[str, str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(_kubeconfig(f"http://127.0.0.1:{server.server_address[1]}")))
        yield {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.integration
def test_the_manifests_pass_kubectl_apply_dry_run(tmp_path, instance, storage_password):
    """`kubectl apply --dry-run=client` needs an API server even offline: it asks the server's discovery which
    resource a kind is and GETs the object to choose between create and patch (without one it fails with
    "unable to recognize ... connection refused"). A loopback stand-in answers discovery for our kinds and
    "not found" for every object; kubectl then parses, maps and prepares each manifest as against a cluster
    (no field validation: --validate=false, the server's OpenAPI is not here; the field names are checked by
    test_the_manifests_use_only_fields_kubernetes_knows)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed")
    run_pod = tmp_path / "run-worker-job.yaml"
    run_pod.write_text(yaml.safe_dump(_run_worker_job(_launcher(instance, tmp_path))))
    unknown_kind = tmp_path / "unknown-kind.yaml"
    unknown_kind.write_text("apiVersion: v1\nkind: Sekret\nmetadata: {name: x, namespace: marketsync}\n")
    with _discovery_only_api_server(tmp_path) as env:
        def apply(*paths: Path) -> subprocess.CompletedProcess:
            args = [kubectl, "apply", "--dry-run=client", "--validate=false", "-n", NAMESPACE]
            return subprocess.run([*args, *(a for p in paths for a in ("-f", str(p)))], env=env,
                                  capture_output=True, text=True, timeout=60)

        applied = apply(*MANIFESTS, run_pod)
        refused = apply(unknown_kind)
    assert applied.returncode == 0, applied.stderr
    assert sorted(applied.stdout.splitlines()) == sorted([
        "namespace/marketsync created (dry run)", f"secret/{SECRET} created (dry run)",
        "secret/dagster-postgresql-secret created (dry run)", "job.batch/marketsync-db-upgrade created (dry run)",
        "job.batch/dagster-run-0123abcd created (dry run)"]), applied.stdout
    assert refused.returncode != 0 and "Sekret" in refused.stderr, refused.stderr


# ------------------------------------------------------------------------------------------- the Dockerfile

def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in DOCKERFILE.read_text().splitlines()
                                          if not line.lstrip().startswith("#")))
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "")
            for line in text.splitlines() if (parts := line.strip().split(None, 1))]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _dockerfile_instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _final_stage_cmd() -> list[str]:
    return json.loads(next(args for name, args in reversed(_stages()[-1]) if name == "CMD"))


def _dockerfile_user() -> str:
    return next(args for name, args in _stages()[-1] if name == "USER").split(":")[0]


def _final_stage_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for name, args in _stages()[-1]:
        if name == "ENV":
            env.update(pair.split("=", 1) for pair in shlex.split(args))
    return env


def test_the_dockerfile_builds_a_non_root_production_image():
    build, final = _stages()
    assert final[0][1].split()[0] == "${PYTHON_IMAGE}"
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in DOCKERFILE.read_text()
    assert not any(name == "ENTRYPOINT" for name, _ in final), "the chart and the run launcher give the command"
    assert int(_dockerfile_user()) > 0
    env = _final_stage_env()
    assert env["MARKETSYNC_ENV"] == "production"
    copied = " ".join(args for name, args in build if name == "COPY")
    assert "sandbox" not in copied and "tests" not in copied


def _install_step() -> tuple[list[tuple[list[str], str]], str, list[str]]:
    """From the build stage: what COPY copies (sources, destination), the WORKDIR, and the pip install's
    arguments."""
    build = _stages()[0]
    workdir = next(args for name, args in build if name == "WORKDIR")
    copies = [(parts[:-1], parts[-1]) for name, args in build if name == "COPY"
              for parts in [shlex.split(args)] if not parts[0].startswith("--")]
    run = next(args for name, args in build if name == "RUN" and "pip install" in args)
    command = next(c for c in run.split("&&") if "pip install" in c)
    words = shlex.split(command)
    return copies, workdir, words[words.index("install") + 1:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _install_as_the_dockerfile_does(folder: Path) -> Path:
    """The build stage's COPY lines copied into a folder of their own and its pip install run there into a
    fresh virtualenv; returns the virtualenv."""
    copies, workdir, pip_args = _install_step()
    source = folder / "src"
    for sources, destination in copies:  # Docker's COPY: a folder's contents, a file into the folder named
        target = source / (destination.removeprefix(workdir).lstrip("/") or ".")
        for name in sources:
            origin = REPO / name
            if origin.is_dir():
                shutil.copytree(origin, target, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / origin.name)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    # The same requirement set and options; only the cache option is dropped, so repeated runs reuse pip's cache.
    args = [a for a in pip_args if a != "--no-cache-dir"]
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", *args], cwd=source,
                               capture_output=True, text=True, timeout=1200)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


def _normal(name: str) -> str:
    """A distribution's name as PEP 503 compares them (prometheus_client is prometheus-client)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _assert_marketsync_alone_at_its_pins(venv: Path) -> None:
    listed = subprocess.run([str(venv / "bin" / "pip"), "list", "--format", "json"], capture_output=True,
                            text=True, check=True, timeout=120)
    versions = {_normal(p["name"]): p["version"] for p in json.loads(listed.stdout)}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["k8s"]]
    pins = {_normal(name): version for requirement in requirements
            for name, version in [re.fullmatch(r"([\w.-]+)(?:\[[^\]]*\])?==(\S+)", requirement).groups()]}
    assert {name: versions.get(name) for name in pins} == pins
    assert versions["marketsync"] and "marketsync-sandbox" not in versions and "pytest" not in versions
    checked = subprocess.run([str(venv / "bin" / "pip"), "check"], capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout


def _assert_the_cmd_serves_in_production(venv: Path, folder: Path) -> None:
    """From outside the repository, in the image's environment: the CMD's module loads (and refuses to
    without its keys), and the CMD serves until the chart's readiness probe passes, then stops on SIGTERM."""
    from cryptography.fernet import Fernet

    cmd = _final_stage_cmd()
    module = cmd[cmd.index("-m") + 1]
    dagster = str(venv / "bin" / "dagster")  # the image's PATH finds the venv's first
    outside = folder / "elsewhere"
    (outside / "dagster-home").mkdir(parents=True)
    image_env = {k: v for k, v in _final_stage_env().items() if k != "PATH"}  # the image's, PATH being the venv's
    env = {**image_env, "PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(outside),
           "MARKETSYNC_HOME": str(outside / "home"), "DAGSTER_HOME": str(outside / "dagster-home"),
           "DATABASE_URL": "postgresql://marketsync@127.0.0.1:9/warehouse",  # loading connects to nothing
           "MARKETSYNC_SECRET_KEYS": Fernet.generate_key().decode()}
    loaded = subprocess.run([dagster, "definitions", "validate", "-m", module], cwd=outside, env=env,
                            capture_output=True, text=True, timeout=300)
    said = loaded.stdout + loaded.stderr
    assert loaded.returncode == 0 and "Validation successful" in said, said[-3000:]
    # Production fails closed: without its credential keys the code location does not load.
    keyless = {k: v for k, v in env.items() if k != "MARKETSYNC_SECRET_KEYS"}
    refused = subprocess.run([dagster, "definitions", "validate", "-m", module], cwd=outside, env=keyless,
                             capture_output=True, text=True, timeout=300)
    said = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "MARKETSYNC_SECRET_KEYS is not set" in said, said[-3000:]

    # The CMD itself, on a free port, until the chart's readiness probe (`dagster api grpc-health-check`) passes.
    port = str(_free_port())
    server_cmd = [dagster, *(port if word == cmd[cmd.index("-p") + 1] else word for word in cmd[1:])]
    with open(folder / "code-server.log", "wb") as log:
        server = subprocess.Popen(server_cmd, cwd=outside, env=env, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            probe = subprocess.run([dagster, "api", "grpc-health-check", "-p", port], cwd=outside, env=env,
                                   capture_output=True, text=True, timeout=60)
            if probe.returncode == 0 or time.monotonic() > deadline or server.poll() is not None:
                break
            time.sleep(2)
        assert probe.returncode == 0, (probe.stderr[-2000:], (folder / "code-server.log").read_text()[-2000:])
        # Kubernetes stops a pod with SIGTERM to its process, then SIGKILL after the grace period (30 s).
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) is not None
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)  # whatever of its process group is left
        except ProcessLookupError:
            pass
        server.wait(timeout=15)


@pytest.mark.e2e
def test_the_dockerfiles_install_step_gives_a_production_code_location(tmp_path):
    """The Dockerfile's install step as a plain pip install (from PyPI: minutes) gives marketsync alone at
    pyproject's pins, and its CMD serves the code location in production. What the test cannot do is build the
    image (no Docker daemon): the base image and the final stage's COPY are not exercised."""
    venv = _install_as_the_dockerfile_does(tmp_path)
    _assert_marketsync_alone_at_its_pins(venv)
    _assert_the_cmd_serves_in_production(venv, tmp_path)
