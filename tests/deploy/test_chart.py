"""The Helm chart helm/payment-orchestrator: lint, render, schemas, env contract, behaviour.

No cluster, no Docker, no helm binary: Helm v4's engine runs in-process. See
tests/deploy/chart.py for how each check works.
"""

import base64
import json
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any

import helm_python
import pytest
import yaml

from service.settings import env_names, load_server_settings, load_settings
from tests.deploy import readme
from tests.deploy.chart import (
    CHART_DIR,
    ChartError,
    by_kind,
    check_env,
    containers,
    documents,
    lint,
    load_values,
    merge,
    one,
    pod_specs,
    render,
    render_documents,
    validate,
    values_files,
)

FULLNAME = "payments-payment-orchestrator"
WORKER = f"{FULLNAME}-worker"
MIGRATION = f"{FULLNAME}-migration"
UID = 10001

CASES = ["defaults", *(path.name for path in values_files())]
# Secret settings the chart never sees (existingSecret, ExternalSecret): stand-ins.
SECRET_STAND_INS = {
    "DATABASE_URL": "postgresql://payments@postgresql:5432/payment_orchestrator",
    "REDIS_URL": "redis://redis:6379/0",
    "BIZON_PASSWORD": "stand-in",
    "PAYSUPER_SECRET_KEY": "stand-in",
    "PROXY_SOLUTIONS_API_KEY": "stand-in",
    "SEND2SELL_TOKEN": "stand-in",
}
# The chart-made Secret with every provider: all-features with its secrets in values.
CHART_SECRET_OVERRIDE = {
    "externalSecret": {"enabled": False},
    "database": {"url": "postgresql://payments:pw@postgresql:5432/payment_orchestrator"},
    "redis": {"url": "rediss://:pw@redis:6379/0"},
    "providers": {
        "bizon": {"password": "pw"},
        "paysuper": {"secretKey": "sk"},
        "proxySolutions": {"apiKey": "key"},
        "send2sell": {"token": "tok"},
    },
}


def case_values(case: str) -> dict[str, Any]:
    return {} if case == "defaults" else load_values(CHART_DIR / "ci" / case)


@cache
def rendered(case: str) -> list[dict[str, Any]]:
    return render_documents(case_values(case))


def all_features() -> dict[str, Any]:
    return load_values(CHART_DIR / "ci" / "all-features-values.yaml")


def chart_copy(tmp_path: Path) -> Path:
    target = tmp_path / CHART_DIR.name
    shutil.copytree(CHART_DIR, target)
    return target


def container(doc: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    found = doc["spec"]["template"]["spec"]["containers"]
    return found[0] if name is None else next(c for c in found if c["name"] == name)


def config_data(docs: list[dict[str, Any]]) -> dict[str, str]:
    return one(docs, "ConfigMap", FULLNAME)["data"]


def annotations(doc: dict[str, Any]) -> dict[str, str]:
    return doc["metadata"].get("annotations", {})


# -- lint and render ---------------------------------------------------------


def test_the_required_values_files_exist() -> None:
    names = {path.name for path in values_files()}
    assert {
        "default-values.yaml",
        "all-features-values.yaml",
        "existing-secret-values.yaml",
        "external-secret-values.yaml",
        "worker-in-process-values.yaml",
    } <= names


@pytest.mark.parametrize("case", CASES)
def test_lints_clean(case: str) -> None:
    lint(CHART_DIR, case_values(case) or None)


@pytest.mark.parametrize("case", CASES)
def test_renders_valid_manifests(case: str) -> None:
    docs = rendered(case)
    assert {"Deployment", "Service", "ConfigMap", "Job", "ServiceAccount"} <= {
        d["kind"] for d in docs
    }
    for doc in docs:
        validate(doc)


def test_defaults_render_these_resources() -> None:
    kinds = sorted((d["kind"], d["metadata"]["name"]) for d in rendered("defaults"))
    assert kinds == [
        ("ConfigMap", FULLNAME),
        ("Deployment", FULLNAME),
        ("Deployment", WORKER),
        ("Job", MIGRATION),
        ("Secret", FULLNAME),
        ("Secret", MIGRATION),
        ("Service", FULLNAME),
        ("ServiceAccount", FULLNAME),
    ]


def test_all_features_render_every_optional_resource() -> None:
    kinds = {d["kind"] for d in rendered("all-features-values.yaml")}
    assert {
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ServiceMonitor",
        "ExternalSecret",
    } <= kinds


def test_a_broken_template_fails_lint_and_render(tmp_path: Path) -> None:
    chart = chart_copy(tmp_path)
    (chart / "templates" / "broken.yaml").write_text("metadata:\n  name: {{ .Values.nameOverride\n")
    with pytest.raises(ChartError, match=r"broken\.yaml"):
        lint(chart)
    with pytest.raises(ChartError, match=r"broken\.yaml"):
        render(chart_dir=chart)


def test_a_lint_warning_fails_lint(tmp_path: Path) -> None:
    chart = chart_copy(tmp_path)
    (chart / "templates" / "old.yaml").write_text(
        "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: old\n"
        "spec:\n  minAvailable: 1\n"
    )
    with pytest.raises(ChartError, match="deprecated"):
        lint(chart)


def test_an_invalid_manifest_fails_validation() -> None:
    deployment = one(rendered("defaults"), "Deployment", FULLNAME)
    typo = json.loads(json.dumps(deployment))
    typo["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(ChartError, match="livenesProbe"):
        validate(typo)
    wrong_type = json.loads(json.dumps(deployment))
    wrong_type["spec"]["replicas"] = "two"
    with pytest.raises(ChartError, match="replicas"):
        validate(wrong_type)


def test_custom_resources_are_validated_by_their_schemas() -> None:
    docs = rendered("all-features-values.yaml")
    monitor = json.loads(json.dumps(by_kind(docs, "ServiceMonitor")[0]))
    del monitor["spec"]["endpoints"]
    with pytest.raises(ChartError, match="endpoints"):
        validate(monitor)
    external = json.loads(json.dumps(by_kind(docs, "ExternalSecret")[0]))
    external["spec"]["data"][0]["remoteRef"]["keyy"] = "typo"
    with pytest.raises(ChartError, match="keyy"):
        validate(external)
    external["spec"]["data"][0]["remoteRef"].pop("keyy")
    external["spec"]["secretStoreRef"]["kind"] = "Vault"
    with pytest.raises(ChartError, match="Vault"):
        validate(external)


# -- the environment contract ------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_sets_only_variables_the_service_reads(case: str) -> None:
    check_env(rendered(case), env_names())


def test_all_features_set_every_variable_the_service_reads() -> None:
    assert check_env(rendered("all-features-values.yaml"), env_names()) == set(env_names())


def test_every_variable_is_reachable_with_the_charts_secret_too() -> None:
    docs = render_documents(merge(all_features(), CHART_SECRET_OVERRIDE))
    assert not by_kind(docs, "ExternalSecret")
    assert check_env(docs, env_names()) == set(env_names())


@pytest.mark.parametrize(
    ("template", "old", "new"),
    [
        ("configmap.yaml", "\ndata:\n", '\ndata:\n  NOT_A_SETTING: "1"\n'),
        ("secret.yaml", "\ndata:\n", '\ndata:\n  API_TOKEN: "eA=="\n'),
        (
            "deployment.yaml",
            "          envFrom:\n",
            '          env:\n            - name: DEBUG_MODE\n              value: "1"\n'
            "          envFrom:\n",
        ),
    ],
)
def test_an_unknown_variable_is_caught(tmp_path: Path, template: str, old: str, new: str) -> None:
    chart = chart_copy(tmp_path)
    path = chart / "templates" / template
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    docs = render_documents(chart_dir=chart)
    with pytest.raises(ChartError, match=r"NOT_A_SETTING|API_TOKEN|DEBUG_MODE"):
        check_env(docs, env_names())


def _service_env(docs: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, str]:
    """The environment the server container would see (secrets the chart cannot see stood in)."""
    env = dict(SECRET_STAND_INS)
    for secret in by_kind(docs, "Secret"):
        if secret["metadata"]["name"] == FULLNAME:
            for key, value in secret["data"].items():
                env[key] = base64.b64decode(value).decode() or SECRET_STAND_INS[key]
    env.update(config_data(docs))
    for item in container(deployment).get("env", []):
        env[item["name"]] = item["value"]
    return env


@pytest.mark.parametrize("case", CASES)
def test_the_service_accepts_the_rendered_settings(case: str) -> None:
    docs = rendered(case)
    deployment = one(docs, "Deployment", FULLNAME)
    env = _service_env(docs, deployment)
    settings = load_settings(env)
    server = load_server_settings(env, settings)  # the shutdown rule, the multiproc rule
    pod = deployment["spec"]["template"]["spec"]
    main = container(deployment)
    assert server.host == "0.0.0.0"
    assert main["ports"] == [{"name": "http", "containerPort": server.port, "protocol": "TCP"}]
    pre_stop = main["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] > server.shutdown_timeout_seconds + pre_stop
    assert server.shutdown_timeout_seconds > settings.longest_call_seconds()
    if server.workers > 1:
        mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
        volume = next(
            v for v in pod["volumes"] if v["name"] == mounts[server.metrics_multiproc_dir]
        )
        assert "emptyDir" in volume


def test_defaults_shut_down_in_the_documented_order() -> None:
    docs = rendered("defaults")
    deployment = one(docs, "Deployment", FULLNAME)
    assert config_data(docs)["SHUTDOWN_TIMEOUT_SECONDS"] == "90"
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 100
    assert container(deployment)["lifecycle"]["preStop"] == {"sleep": {"seconds": 5}}


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"server": {"shutdown": {"timeoutSeconds": 75}}}, "longest provider call"),
        ({"server": {"shutdown": {"terminationGracePeriodSeconds": 95}}}, "preStopSleepSeconds"),
        ({"providers": {"bizon": {"timeoutSeconds": 40}}}, "longest provider call"),
        ({"worker": {"terminationGracePeriodSeconds": 60}}, "worker.terminationGracePeriod"),
    ],
)
def test_inconsistent_shutdown_values_are_refused(override: dict[str, Any], message: str) -> None:
    providers = {
        "providers": {"bizon": {"enabled": True, "baseUrl": "https://b.example", "login": "l"}}
    }
    with pytest.raises(ChartError, match=message):
        render(merge(providers, override))


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"existingSecret": "x", "externalSecret": {"enabled": True}}, "exclusive"),
        ({"externalSecret": {"enabled": True}}, "secretStoreRef.name"),
        (
            {"externalSecret": {"enabled": True, "secretStoreRef": {"name": "vault"}}},
            "DATABASE_URL",
        ),
        ({"providers": {"send2sell": {"enabled": True}}}, "send2sell.baseUrl"),
        ({"providers": {"bizon": {"enabled": True, "baseUrl": "https://b.example"}}}, "login"),
        (
            {"providers": {"paysuper": {"enabled": True, "baseUrl": "https://p.example"}}},
            "secretKey",
        ),
        ({"autoscaling": {"enabled": True, "minReplicas": 5, "maxReplicas": 3}}, "minReplicas"),
    ],
)
def test_values_that_cannot_work_are_refused(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ChartError, match=message):
        render(values)


# -- workloads ---------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_every_pod_is_locked_down(case: str) -> None:
    specs = pod_specs(rendered(case))
    assert len(specs) >= 2
    for where, pod in specs:
        context = pod["securityContext"]
        assert context["runAsNonRoot"] is True, where
        assert context["runAsUser"] == UID, where
        assert context["runAsGroup"] == UID, where
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, where
        assert pod["automountServiceAccountToken"] is False, where
        volumes = {v["name"]: v for v in pod["volumes"]}
        for each in containers(pod):
            security = each["securityContext"]
            assert security["runAsNonRoot"] is True, where
            assert security["runAsUser"] == UID, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, where
            resources = each["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), where
            assert "memory" in resources["limits"], where
            tmp = next(m for m in each["volumeMounts"] if m["mountPath"] == "/tmp")
            assert "emptyDir" in volumes[tmp["name"]], where


@pytest.mark.parametrize("case", CASES)
def test_commands_run_the_image_only(case: str) -> None:
    docs = rendered(case)
    image = container(one(docs, "Deployment", FULLNAME))["image"]
    commands = {}
    for where, pod in pod_specs(docs):
        for each in containers(pod):
            assert each["image"] == image, where
            commands[where] = each["command"] + each.get("args", [])
    assert commands[f"Deployment/{FULLNAME}"] == ["python", "-m", "service", "serve"]
    assert commands[f"Job/{MIGRATION}"] == ["python", "-m", "service", "migrate"]
    for command in commands.values():
        assert not {"pip", "git", "curl", "wget", "sh", "bash"} & set(command)


def test_the_server_probes_the_health_routes() -> None:
    main = container(one(rendered("defaults"), "Deployment", FULLNAME))
    assert main["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert main["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}


def test_the_server_rolls_without_downtime() -> None:
    deployment = one(rendered("defaults"), "Deployment", FULLNAME)
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
    }
    assert deployment["spec"]["replicas"] == 2
    scaled = one(rendered("all-features-values.yaml"), "Deployment", FULLNAME)
    assert "replicas" not in scaled["spec"]  # the HPA owns it


def test_the_service_targets_only_server_pods() -> None:
    docs = rendered("defaults")
    service = one(docs, "Service", FULLNAME)
    server = one(docs, "Deployment", FULLNAME)
    worker = one(docs, "Deployment", WORKER)
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8000, "targetPort": "http", "protocol": "TCP"}
    ]
    selector = service["spec"]["selector"]
    assert selector == server["spec"]["selector"]["matchLabels"]
    server_labels = server["spec"]["template"]["metadata"]["labels"]
    worker_labels = worker["spec"]["template"]["metadata"]["labels"]
    assert selector.items() <= server_labels.items()
    assert not selector.items() <= worker_labels.items()  # no traffic to the reconciler
    assert not worker["spec"]["selector"]["matchLabels"].items() <= server_labels.items()


def test_the_reconciler_runs_as_its_own_deployment_by_default() -> None:
    docs = rendered("defaults")
    worker = one(docs, "Deployment", WORKER)
    reconciler = container(worker)
    assert reconciler["command"] == ["python", "-m", "service", "reconcile"]
    assert worker["spec"]["replicas"] == 1
    assert not {"livenessProbe", "readinessProbe", "startupProbe"} & set(reconciler)
    # Only its /metrics, for the PodMonitor: no Service points at it.
    assert reconciler["ports"] == [{"name": "metrics", "containerPort": 9102, "protocol": "TCP"}]
    assert reconciler["env"] == [{"name": "RECONCILE_METRICS_PORT", "value": "9102"}]
    assert config_data(docs)["RECONCILE_IN_PROCESS"] == "false"
    assert reconciler["envFrom"] == container(one(docs, "Deployment", FULLNAME))["envFrom"]
    assert one(rendered("all-features-values.yaml"), "Deployment", WORKER)["spec"]["replicas"] == 2


def test_the_reconciler_in_process() -> None:
    docs = rendered("worker-in-process-values.yaml")
    deployments = [d["metadata"]["name"] for d in by_kind(docs, "Deployment")]
    assert deployments == [FULLNAME]
    assert config_data(docs)["RECONCILE_IN_PROCESS"] == "true"
    configmap_ref = container(one(docs, "Deployment", FULLNAME))["envFrom"][0]["configMapRef"]
    assert configmap_ref == {"name": FULLNAME}


def test_several_workers_merge_their_metrics() -> None:
    docs = rendered("all-features-values.yaml")
    main = container(one(docs, "Deployment", FULLNAME))
    assert config_data(docs)["WORKERS"] == "4"
    assert main["env"] == [
        {"name": "PROMETHEUS_MULTIPROC_DIR", "value": "/var/run/prometheus-multiproc"}
    ]
    # The reconciler's environment holds its metrics port, not the servers' merge dir.
    assert {e["name"] for e in container(one(docs, "Deployment", WORKER))["env"]} == {
        "RECONCILE_METRICS_PORT"
    }
    assert "env" not in container(one(rendered("defaults"), "Deployment", FULLNAME))


# -- migrations --------------------------------------------------------------


def _hook(doc: dict[str, Any]) -> tuple[set[str], int, set[str]]:
    notes = annotations(doc)
    return (
        set(notes["helm.sh/hook"].split(",")),
        int(notes["helm.sh/hook-weight"]),
        set(notes["helm.sh/hook-delete-policy"].split(",")),
    )


@pytest.mark.parametrize("case", CASES)
def test_migrations_run_as_a_hook_before_the_pods(case: str) -> None:
    docs = rendered(case)
    job = one(docs, "Job", MIGRATION)
    events, weight, policy = _hook(job)
    assert events == {"pre-install", "pre-upgrade"}
    assert policy == {"before-hook-creation", "hook-succeeded"}
    spec = job["spec"]
    assert spec["backoffLimit"] >= 0
    assert spec["activeDeadlineSeconds"] > 0
    assert spec["ttlSecondsAfterFinished"] > 0
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    (env,) = container(job)["env"]
    assert env["name"] == "DATABASE_URL"
    source = env["valueFrom"]["secretKeyRef"]
    values = case_values(case)
    if values.get("existingSecret"):
        assert source == {"name": values["existingSecret"], "key": "DATABASE_URL"}
        return
    # The release's Secret does not exist yet at pre-install: a hook-scoped one, made first.
    makers = [
        d
        for d in docs
        if (d["kind"] == "Secret" and d["metadata"]["name"] == source["name"])
        or (d["kind"] == "ExternalSecret" and d["spec"]["target"]["name"] == source["name"])
    ]
    assert len(makers) == 1
    maker_events, maker_weight, maker_policy = _hook(makers[0])
    assert maker_events == events
    assert maker_weight < weight
    assert maker_policy == policy


def test_the_migration_job_gets_no_release_serviceaccount_before_it_exists() -> None:
    job = one(rendered("defaults"), "Job", MIGRATION)
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "default"
    chosen = one(rendered("all-features-values.yaml"), "Job", MIGRATION)
    assert chosen["spec"]["template"]["spec"]["serviceAccountName"] == "payments-migrator"
    existing = render_documents({"serviceAccount": {"create": False, "name": "payments-sa"}})
    job = one(existing, "Job", MIGRATION)
    assert job["spec"]["template"]["spec"]["serviceAccountName"] == "payments-sa"


def test_migrations_can_be_turned_off() -> None:
    docs = render_documents({"migration": {"enabled": False}})
    assert not by_kind(docs, "Job")
    assert [d["metadata"]["name"] for d in by_kind(docs, "Secret")] == [FULLNAME]


# -- secrets -----------------------------------------------------------------


def test_the_charts_secret_holds_the_secret_settings_only() -> None:
    docs = render_documents(merge(all_features(), CHART_SECRET_OVERRIDE))
    secret = one(docs, "Secret", FULLNAME)
    assert set(secret["data"]) == {
        "DATABASE_URL",
        "REDIS_URL",
        "BIZON_PASSWORD",
        "PAYSUPER_SECRET_KEY",
        "PROXY_SOLUTIONS_API_KEY",
        "SEND2SELL_TOKEN",
    }
    assert base64.b64decode(secret["data"]["SEND2SELL_TOKEN"]) == b"tok"
    assert not set(secret["data"]) & set(config_data(docs))
    envfrom = container(one(docs, "Deployment", FULLNAME))["envFrom"]
    assert envfrom == [{"configMapRef": {"name": FULLNAME}}, {"secretRef": {"name": FULLNAME}}]


def test_an_existing_secret_replaces_the_charts() -> None:
    docs = rendered("existing-secret-values.yaml")
    assert not by_kind(docs, "Secret")
    assert not by_kind(docs, "ExternalSecret")
    for name in (FULLNAME, WORKER):
        deployment = one(docs, "Deployment", name)
        assert {"secretRef": {"name": "payment-orchestrator-credentials"}} in container(deployment)[
            "envFrom"
        ]
        assert "checksum/secret" not in deployment["spec"]["template"]["metadata"]["annotations"]


def test_an_external_secret_makes_the_secret_the_pods_read() -> None:
    docs = rendered("external-secret-values.yaml")
    assert not by_kind(docs, "Secret")
    external = one(docs, "ExternalSecret", FULLNAME)
    assert external["spec"]["secretStoreRef"] == {
        "name": "vault-payments",
        "kind": "ClusterSecretStore",
    }
    keys = {item["secretKey"]: item["remoteRef"] for item in external["spec"]["data"]}
    assert keys == {
        "DATABASE_URL": {"key": "payments/payment-orchestrator", "property": "database_url"},
        "REDIS_URL": {"key": "payments/payment-orchestrator", "property": "redis_url"},
        "PAYSUPER_SECRET_KEY": {"key": "payments/paysuper", "property": "secret_key"},
    }
    envfrom = container(one(docs, "Deployment", FULLNAME))["envFrom"]
    assert {"secretRef": {"name": external["spec"]["target"]["name"]}} in envfrom


def test_a_changed_setting_rolls_the_pods() -> None:
    def checksums(values: dict[str, Any]) -> dict[str, str]:
        deployment = one(render_documents(values), "Deployment", FULLNAME)
        notes = deployment["spec"]["template"]["metadata"]["annotations"]
        return {k: v for k, v in notes.items() if k.startswith("checksum/")}

    base = checksums({})
    assert set(base) == {"checksum/config", "checksum/secret"}
    config = checksums({"config": {"logLevel": "DEBUG"}})
    assert config["checksum/config"] != base["checksum/config"]
    assert config["checksum/secret"] == base["checksum/secret"]
    secret = checksums({"redis": {"url": "redis://other:6379/0"}})
    assert secret["checksum/secret"] != base["checksum/secret"]


# -- optional resources ------------------------------------------------------


def test_optional_resources() -> None:
    docs = rendered("all-features-values.yaml")
    hpa = one(docs, "HorizontalPodAutoscaler", FULLNAME)
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": FULLNAME,
    }
    server_labels = one(docs, "Deployment", FULLNAME)["spec"]["selector"]["matchLabels"]
    pdb = one(docs, "PodDisruptionBudget", FULLNAME)
    assert pdb["spec"]["selector"]["matchLabels"] == server_labels
    monitor = one(docs, "ServiceMonitor", FULLNAME)
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert monitor["spec"]["endpoints"][0]["port"] == "http"
    service_labels = one(docs, "Service", FULLNAME)["metadata"]["labels"]
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service_labels.items()
    assert one(docs, "ServiceAccount", "payments-api")["automountServiceAccountToken"] is False


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        ({}, {"minAvailable": 1}),
        ({"maxUnavailable": 1}, {"maxUnavailable": 1}),
        ({"maxUnavailable": "25%"}, {"maxUnavailable": "25%"}),
        ({"minAvailable": "50%"}, {"minAvailable": "50%"}),
    ],
)
def test_the_pdb_budget(budget: dict[str, Any], expected: dict[str, Any]) -> None:
    docs = render_documents({"podDisruptionBudget": {"enabled": True, **budget}})
    pdb = one(docs, "PodDisruptionBudget", FULLNAME)
    validate(pdb)
    assert {k: v for k, v in pdb["spec"].items() if k != "selector"} == expected


def test_large_numbers_reach_the_service_as_numbers_it_reads() -> None:
    values = {
        "config": {"idempotencyTtlSeconds": 31_536_000, "exchangeRatesTtlSeconds": 12_000_000.5}
    }
    data = config_data(render_documents(values))
    assert data["IDEMPOTENCY_TTL_SECONDS"] == "31536000"
    settings = load_settings({**SECRET_STAND_INS, **data})
    assert settings.idempotency_ttl_seconds == 31_536_000
    assert settings.exchange_rates_ttl_seconds == 12_000_000.5


def test_a_pdb_keeps_one_pod_by_default() -> None:
    pdb = one(
        render_documents({"podDisruptionBudget": {"enabled": True}}),
        "PodDisruptionBudget",
        FULLNAME,
    )
    assert pdb["spec"]["minAvailable"] == 1
    assert "maxUnavailable" not in pdb["spec"]


def test_the_network_policy() -> None:
    policy = one(rendered("all-features-values.yaml"), "NetworkPolicy", FULLNAME)["spec"]
    assert policy["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "payment-orchestrator",
        "app.kubernetes.io/instance": "payments",
    }
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    (ingress,) = policy["ingress"]
    assert ingress["ports"] == [
        {"port": "http", "protocol": "TCP"},
        {"port": "metrics", "protocol": "TCP"},  # the reconciler's, for Prometheus
    ]
    assert len(ingress["from"]) == 2
    ports = [sorted(p["port"] for p in rule["ports"]) for rule in policy["egress"]]
    assert ports == [[53, 53], [5432], [6379], [443, 5001], [4317]]
    assert policy["egress"][3]["to"] == [
        {"ipBlock": {"cidr": "203.0.113.0/24"}},
        {"ipBlock": {"cidr": "198.51.100.17/32"}},
    ]
    default = one(render_documents({"networkPolicy": {"enabled": True}}), "NetworkPolicy", FULLNAME)
    assert default["spec"]["ingress"][0]["from"] == [{"podSelector": {}}]


# -- names, labels, image ----------------------------------------------------

_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


@pytest.mark.parametrize("release", ["payments", "a" * 53])
def test_names_and_labels_are_valid(release: str) -> None:
    docs = render_documents(all_features(), release=release)
    for doc in docs:
        metadata = doc["metadata"]
        assert len(metadata["name"]) <= 63, metadata["name"]
        assert _DNS_LABEL.match(metadata["name"]), metadata["name"]
        labels = metadata["labels"]
        for key in ("name", "instance", "version", "managed-by", "part-of"):
            assert f"app.kubernetes.io/{key}" in labels, (doc["kind"], key)
        for value in labels.values():
            assert len(value) <= 63, value
            assert _LABEL_VALUE.match(value), value


def test_the_image_reference() -> None:
    def image(values: dict[str, Any]) -> str:
        return container(one(render_documents(values), "Deployment", FULLNAME))["image"]

    app_version = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["appVersion"]
    repository = "registry.example.com/payments/payment-orchestrator"
    assert image({}) == f"{repository}:{app_version}"
    assert image({"image": {"tag": "1.2.3"}}) == f"{repository}:1.2.3"
    digest = "sha256:" + "ab" * 32
    assert image({"image": {"digest": digest}}) == f"{repository}:{app_version}@{digest}"


def test_notes_warn_about_missing_settings() -> None:
    notes = render()["payment-orchestrator/templates/NOTES.txt"]
    assert "database.url is empty" in notes
    assert "image.repository is the chart's placeholder" in notes
    quiet = render(load_values(CHART_DIR / "ci" / "default-values.yaml"))
    assert "WARNING" not in quiet["payment-orchestrator/templates/NOTES.txt"]


# -- values schema and documentation -----------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicaCount": "three"}, "/replicaCount"),
        ({"replicas": 3}, "replicas"),
        ({"providers": {"stripe": {"enabled": True}}}, "stripe"),
        ({"config": {"logLevel": "VERBOSE"}}, "/config/logLevel"),
        ({"providers": {"bizon": {"timeoutSeconds": 0}}}, "/providers/bizon/timeoutSeconds"),
        ({"image": {"digest": "latest"}}, "/image/digest"),
        ({"server": {"workers": 0}}, "/server/workers"),
        ({"networkPolicy": {"ingress": {"from": []}}}, "/networkPolicy/ingress/from"),
    ],
)
def test_the_values_schema_rejects_bad_values(values: dict[str, Any], message: str) -> None:
    with (
        helm_python.Chart.load(CHART_DIR) as chart,
        pytest.raises(helm_python.HelmValuesError, match=re.escape(message)),
    ):
        chart.validate_schema(chart.merge_values(values))
    with pytest.raises(ChartError, match=re.escape(message)):
        render(values)
    with pytest.raises(ChartError, match=re.escape(message)):
        lint(CHART_DIR, values)


def _schema_paths(schema: dict[str, Any], node: dict[str, Any], prefix: str = "") -> set[str]:
    while "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    paths = set()
    for key, child in node.get("properties", {}).items():
        paths.add(prefix + key)
        paths |= _schema_paths(schema, child, f"{prefix}{key}.")
    return paths


def _value_paths(values: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for key, child in values.items():
        paths.add(prefix + key)
        if isinstance(child, dict):
            paths |= _value_paths(child, f"{prefix}{key}.")
    return paths


def test_the_schema_describes_exactly_the_values() -> None:
    schema = json.loads((CHART_DIR / "values.schema.json").read_text())
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    described = {p for p in _schema_paths(schema, schema) if p != "global"}
    # The other way round (a key of values.yaml the schema lacks) the schema's
    # additionalProperties: false already refuses when the defaults render.
    assert described - _value_paths(values) == set(), "in the schema, missing from values.yaml"


def test_every_value_is_documented_and_the_readme_is_current() -> None:
    text = (CHART_DIR / "README.md").read_text()
    assert readme.readme_with_table(text, readme.table()) == text, (
        "README.md's values table is stale: run .venv/bin/python -m tests.deploy.readme"
    )


def test_an_undocumented_value_is_caught(tmp_path: Path) -> None:
    chart = chart_copy(tmp_path)
    values = chart / "values.yaml"
    values.write_text(values.read_text() + "\nsurprise: true\n")
    with pytest.raises(readme.UndocumentedValue, match="surprise"):
        readme.table(chart)


def test_documents_refuse_non_objects() -> None:
    with pytest.raises(ChartError, match="not a Kubernetes object"):
        documents({"x/templates/a.yaml": "- just\n- a list\n"})
