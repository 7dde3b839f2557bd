"""Checks of the Helm chart that need no cluster, no helm binary and no network.

Helm v4's engine runs in-process (helm_python, over libhelm_c): lint, values
schema, rendering. Rendered manifests are validated against the Kubernetes
OpenAPI schemas bundled with kubernetes-validate (strict: unknown fields are
errors); the custom resources, which it has no schema for, against the
JSON schemas in tests/deploy/schemas/ written from the upstream CRDs.

Each check raises ChartError; the tests call them on the real chart and on
broken copies, so a check that stopped checking would fail its own test.
"""

import copy
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import helm_python
import jsonschema
import kubernetes_validate
import yaml
from referencing import Registry

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "helm" / "payment-orchestrator"
SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
RELEASE = "payments"
NAMESPACE = "payments"

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest
# kubernetes-validate knows: every manifest must be valid for both.
KUBE_VERSIONS = ("1.30", ".".join(kubernetes_validate.latest_version().split(".")[:2]))
LINT_KUBE_VERSION = "v1.33.0"
# Lint findings tolerated: informational only (no icon: the chart is internal).
LINT_ALLOWED = {(1, "Chart.yaml", "icon is recommended")}

# Custom resources: (apiVersion, kind) -> the JSON schema file validating them.
CRD_SCHEMAS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor-monitoring.coreos.com-v1.json",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitor-monitoring.coreos.com-v1.json",
    ("external-secrets.io/v1", "ExternalSecret"): "externalsecret-external-secrets.io-v1.json",
}

WORKLOAD_KINDS = {"Deployment", "Job", "StatefulSet", "DaemonSet", "CronJob"}


class ChartError(AssertionError):
    """The chart, or what it renders, breaks a rule; the message says which."""


def values_files(chart_dir: Path = CHART_DIR) -> list[Path]:
    return sorted((chart_dir / "ci").glob("*.yaml"))


def load_values(path: Path) -> dict[str, Any]:
    return helm_python.values_from_yaml(path.read_text())


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two values trees, as helm merges -f files (override wins)."""
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def lint(chart_dir: Path = CHART_DIR, values: dict[str, Any] | None = None) -> None:
    """`helm lint --strict` (warnings are errors) including the values schema."""
    report = helm_python.lint(
        chart_dir, values, strict=True, kube_version=LINT_KUBE_VERSION, quiet=False
    )
    findings = [
        (m["severity"], m["path"], m["error"].strip())
        for m in report["messages"]
        if (m["severity"], m["path"], m["error"].strip()) not in LINT_ALLOWED
    ]
    if findings or report["errors"]:
        raise ChartError(f"helm lint: {findings or report['errors']}")


def render(
    values: dict[str, Any] | None = None, chart_dir: Path = CHART_DIR, release: str = RELEASE
) -> dict[str, str]:
    """Template path -> rendered text, as `helm template` (install) renders it."""
    try:
        with helm_python.Chart.load(chart_dir) as chart:
            return chart.render(values or {}, name=release, namespace=NAMESPACE, is_install=True)
    except helm_python.HelmError as exc:
        raise ChartError(f"helm render: {exc}") from exc


def documents(rendered: Mapping[str, str]) -> list[dict[str, Any]]:
    """The manifests (NOTES.txt and empty templates left out), each tagged with its template."""
    docs = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        try:
            loaded = list(yaml.safe_load_all(text))
        except yaml.YAMLError as exc:
            raise ChartError(f"{path}: not YAML: {exc}") from exc
        for doc in loaded:
            if doc is None:
                continue
            if not isinstance(doc, dict) or "kind" not in doc:
                raise ChartError(f"{path}: not a Kubernetes object: {doc!r:.200}")
            docs.append(doc)
    return docs


def render_documents(
    values: dict[str, Any] | None = None, chart_dir: Path = CHART_DIR, release: str = RELEASE
) -> list[dict[str, Any]]:
    return documents(render(values, chart_dir, release))


def by_kind(docs: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: Iterable[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    found = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    if len(found) != 1:
        raise ChartError(f"expected one {kind}/{name}, found {len(found)}")
    return found[0]


@cache
def _crd_validator(filename: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS_DIR / filename).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=Registry(), format_checker=cls.FORMAT_CHECKER)


def validate(doc: dict[str, Any]) -> None:
    """Validate one manifest: Kubernetes kinds strictly, custom resources by our schemas."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    if key in CRD_SCHEMAS:
        errors = sorted(
            _crd_validator(CRD_SCHEMAS[key]).iter_errors(doc), key=lambda e: list(e.path)
        )
        if errors:
            detail = "; ".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)
            raise ChartError(f"{name}: {detail}")
        return
    for version in KUBE_VERSIONS:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(map(str, exc.path))
            raise ChartError(f"{name} (Kubernetes {version}): {path}: {exc.message}") from exc
        except kubernetes_validate.SchemaNotFoundError as exc:
            raise ChartError(f"{name}: no schema ({exc.message}); add one to CRD_SCHEMAS") from exc


def pod_specs(docs: Iterable[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(kind/name, pod spec) of every workload."""
    specs = []
    for doc in docs:
        if doc["kind"] in WORKLOAD_KINDS:
            spec = doc["spec"]
            if doc["kind"] == "CronJob":
                spec = spec["jobTemplate"]["spec"]
            specs.append((f"{doc['kind']}/{doc['metadata']['name']}", spec["template"]["spec"]))
    return specs


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def _data_keys(doc: dict[str, Any]) -> list[str]:
    """The keys a ConfigMap, Secret or ExternalSecret puts in the pods' environment."""
    if doc["kind"] == "ConfigMap":
        return [*doc.get("data", {}), *doc.get("binaryData", {})]
    if doc["kind"] == "Secret":
        return [*doc.get("data", {}), *doc.get("stringData", {})]
    if doc["kind"] == "ExternalSecret":
        spec = doc["spec"]
        if spec.get("dataFrom"):
            raise ChartError(f"ExternalSecret/{doc['metadata']['name']}: dataFrom imports keys")
        template = spec.get("target", {}).get("template", {})
        return [item["secretKey"] for item in spec.get("data", [])] + [*template.get("data", {})]
    return []


def env_set(docs: Iterable[dict[str, Any]]) -> dict[str, set[str]]:
    """Every environment variable name the chart sets, with where it is set.

    ConfigMap data, Secret data/stringData, ExternalSecret target keys (data
    and template), and the env entries of every container. envFrom may read only
    the chart's ConfigMap, and never with a prefix; a secretRef reads the chart's
    Secrets (counted here) or existingSecret (whose keys the chart cannot see).
    """
    docs = list(docs)
    names: dict[str, set[str]] = {}
    for doc in docs:
        for key in _data_keys(doc):
            names.setdefault(key, set()).add(f"{doc['kind']}/{doc['metadata']['name']}")
    config_maps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    for where, pod in pod_specs(docs):
        for container in containers(pod):
            for item in container.get("env", []):
                names.setdefault(item["name"], set()).add(f"{where}:{container['name']}")
            for source in container.get("envFrom", []):
                if source.get("prefix"):
                    raise ChartError(f"{where}: envFrom with a prefix renames variables")
                config_map = source.get("configMapRef", {}).get("name")
                if config_map and config_map not in config_maps:
                    raise ChartError(f"{where}: envFrom ConfigMap {config_map} is not the chart's")
    return names


def check_env(docs: Iterable[dict[str, Any]], allowed: frozenset[str]) -> set[str]:
    """The names the chart sets; ChartError naming any outside the service's contract."""
    names = env_set(docs)
    unknown = {name: sorted(where) for name, where in names.items() if name not in allowed}
    if unknown:
        raise ChartError(f"environment variables the service does not read: {unknown}")
    return set(names)
