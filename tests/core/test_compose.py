"""docker-compose.yml (the scale-out set-up) is valid and has what an akimat's servers need.

It cannot run here (no container engine), so the compose tool validates it without one:
`docker compose config` (v2 plugin) or, where only Debian 12's v1 is packaged,
`docker-compose config` (scripts/install_test_deps.sh installs one of them). The resolved
configuration is then read (JSON from v2, YAML when PyYAML is installed, and always a small
text reader that needs neither) and checked for: two app replicas behind a reverse proxy,
PostgreSQL, Meilisearch (official image), Keycloak, a mail catcher, health checks and named
volumes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"

# the file refuses to resolve without these (`${VAR:?set it}`); placeholders are enough here
REQUIRED_ENV = {
    "POSTGRES_PASSWORD": "compose-test-db-password",
    "CIVIC_MEILISEARCH_KEY": "compose-test-meilisearch-key",
    "CIVIC_SECRET_KEY": "compose-test-secret-key-0123456789abcdef0123456789",
}


def _compose_command() -> tuple[list[str], str] | None:
    """The compose tool and its generation ("v2" or "v1"), or None when there is neither."""
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["docker", "compose"], "v2"
    if shutil.which("docker-compose"):
        return ["docker-compose"], "v1"
    return None


TOOL = _compose_command()
pytestmark = pytest.mark.skipif(
    TOOL is None,
    reason="neither `docker compose` (v2) nor `docker-compose` (v1) is installed; "
    "scripts/install_test_deps.sh installs one",
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.update(REQUIRED_ENV)
    return env


def _compose(*args: str) -> subprocess.CompletedProcess:
    command, _ = TOOL
    return subprocess.run([*command, "-f", str(COMPOSE_FILE), "config", *args], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------ reading the resolved configuration
# Each reader returns {"services": {name: service}, "volumes": [names]}, a service being
# {"image", "build", "replicas", "restart", "healthcheck" ("on" / "off" / None),
#  "volumes" (named-volume sources), "binds" (host paths), "ports" (published), "depends_on"}.


def _normalise(config: dict) -> dict:
    services = {}
    for name, spec in (config.get("services") or {}).items():
        health = spec.get("healthcheck")
        if health is None:
            state = None
        elif health.get("disable") or (health.get("test") or [None])[0] == "NONE":
            state = "off"
        else:
            state = "on" if health.get("test") else None
        named, binds = [], []
        for volume in spec.get("volumes") or []:
            if isinstance(volume, str):  # v1 short form: source:target[:mode]
                source = volume.split(":", 1)[0]
                (binds if source.startswith(("/", ".", "~")) else named).append(source)
            elif volume.get("type") == "volume":
                named.append(volume["source"])
            elif volume.get("type") == "bind":
                binds.append(volume["source"])
        ports = []
        for port in spec.get("ports") or []:
            if isinstance(port, dict):
                ports.append(int(port["published"]))
            else:  # short form "host:container"
                ports.append(int(str(port).rsplit(":", 2)[-2]) if ":" in str(port) else int(port))
        depends = spec.get("depends_on") or []
        services[name] = {
            "image": spec.get("image") or "",
            "build": "build" in spec,
            "replicas": int((spec.get("deploy") or {}).get("replicas") or 1),
            "restart": str(spec.get("restart") or "no"),
            "healthcheck": state,
            "volumes": named,
            "binds": binds,
            "ports": ports,
            "depends_on": sorted(depends if isinstance(depends, list) else depends.keys()),
        }
    return {"services": services, "volumes": sorted((config.get("volumes") or {}).keys())}


def read_json(text: str) -> dict:
    return _normalise(json.loads(text))


def read_yaml(text: str) -> dict:
    import yaml

    return _normalise(yaml.safe_load(text))


def _blocks(lines: list[str], indent: int) -> dict[str, list[str]]:
    """Split lines into `key:` blocks found at exactly `indent` spaces; each keeps its body."""
    blocks: dict[str, list[str]] = {}
    current = None
    for line in lines:
        if not line.strip():
            continue
        lead = len(line) - len(line.lstrip(" "))
        match = re.match(r" {%d}([\w.-]+):(.*)$" % indent, line)
        if lead == indent and match:
            current = match.group(1)
            blocks[current] = [match.group(2).strip()] if match.group(2).strip() else []
        elif lead < indent:
            current = None
        elif current is not None:
            blocks[current].append(line)
    return blocks


def _scalar(value: str) -> str:
    return value.strip().strip("'\"")


def read_text(text: str) -> dict:
    """A reader for the block YAML that `config` prints, for machines without PyYAML: it knows
    only the keys checked here."""
    top = _blocks(text.splitlines(), 0)
    services = {}
    for name, body in _blocks(top.get("services", []), 2).items():
        keys = _blocks(body, 4)
        inline = {k: _scalar(v[0]) for k, v in keys.items() if len(v) == 1 and not v[0].startswith(" ")}
        health = keys.get("healthcheck")
        if health is None:
            state = None
        else:
            joined = "\n".join(health)
            disabled = re.search(r"disable: true", joined) or re.search(r"test:\s*\n\s*- NONE\b", joined) \
                or re.search(r"test:\s*\[?\s*['\"]?NONE", joined)
            state = "off" if disabled else ("on" if "test:" in joined else None)
        named, binds = [], []
        pending_type = None
        for line in keys.get("volumes", []):
            item = line.strip()
            short = re.match(r"- ([^\s:]+):(\S+)$", item)
            if short and not item.startswith("- type:"):
                source = _scalar(short.group(1))
                (binds if source.startswith(("/", ".", "~")) else named).append(source)
                continue
            kind = re.match(r"-?\s*type: (\w+)", item)
            if kind:
                pending_type = kind.group(1)
                continue
            source = re.match(r"-?\s*source: (.+)$", item)
            if source and pending_type:
                (named if pending_type == "volume" else binds).append(_scalar(source.group(1)))
        ports = []
        for line in keys.get("ports", []):
            published = re.search(r"published: ['\"]?(\d+)", line)
            short = re.match(r"\s*- ['\"]?(?:[\d.]+:)?(\d+):\d+", line)
            if published or short:
                ports.append(int((published or short).group(1)))
        deploy = "\n".join(keys.get("deploy", []))
        replicas = re.search(r"replicas: (\d+)", deploy)
        depends = []
        for line in keys.get("depends_on", []):
            entry = re.match(r" {6}([\w.-]+):|\s*- ([\w.-]+)$", line)
            if entry:
                depends.append(entry.group(1) or entry.group(2))
        services[name] = {
            "image": inline.get("image", ""),
            "build": "build" in keys,
            "replicas": int(replicas.group(1)) if replicas else 1,
            "restart": inline.get("restart", "no"),
            "healthcheck": state,
            "volumes": named,
            "binds": binds,
            "ports": ports,
            "depends_on": sorted(depends),
        }
    volumes = sorted(_blocks(top.get("volumes", []), 2).keys())
    return {"services": services, "volumes": volumes}


def _readers() -> list[str]:
    names = []
    if TOOL and TOOL[1] == "v2":
        names.append("json")
    try:
        import yaml  # noqa: F401
    except ImportError:
        pass
    else:
        names.append("yaml")
    return [*names, "text"]


@pytest.fixture(scope="module")
def resolved() -> dict[str, str]:
    """The configuration as `config` prints it: YAML, and JSON when the tool can."""
    out = {}
    result = _compose()
    assert result.returncode == 0, result.stderr
    out["yaml"] = result.stdout
    if TOOL and TOOL[1] == "v2":
        result = _compose("--format", "json")
        assert result.returncode == 0, result.stderr
        out["json"] = result.stdout
    return out


# ------------------------------------------------------------ the tests


def test_compose_config_validates():
    result = _compose("-q")
    assert result.returncode == 0, f"{' '.join(TOOL[0])} config -q rejected docker-compose.yml:\n{result.stderr}"


def test_compose_refuses_to_run_without_secrets():
    """The passwords and keys have no defaults: left unset, the file does not resolve."""
    command, _ = TOOL
    env = {k: v for k, v in _env().items() if k not in REQUIRED_ENV}
    result = subprocess.run([*command, "-f", str(COMPOSE_FILE), "config", "-q"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "set it" in result.stderr


@pytest.mark.parametrize("reader", _readers())
def test_compose_structure(resolved, reader):
    text = resolved["json"] if reader == "json" else resolved["yaml"]
    config = {"json": read_json, "yaml": read_yaml, "text": read_text}[reader](text)
    services = config["services"]

    def with_image(*patterns: str) -> list[str]:
        return [n for n, s in services.items() if any(re.search(p, s["image"]) for p in patterns)]

    # two replicas of the app: one built service with deploy.replicas >= 2, or two such services
    app_services = [n for n, s in services.items() if s["build"] and s["restart"] != "no"]
    assert app_services, "no long-running service built from the repository (the app)"
    assert sum(services[n]["replicas"] for n in app_services) >= 2, "the app runs as one replica"

    proxies = with_image(r"^(docker\.io/)?(library/)?(nginx|caddy|traefik|haproxy)\b")
    assert proxies, "no reverse proxy (nginx, Caddy, Traefik or HAProxy)"
    proxy = services[proxies[0]]
    assert set(proxy["ports"]) & {80, 443}, "the proxy publishes neither port 80 nor 443"
    assert set(proxy["depends_on"]) & set(app_services), "the proxy does not depend on the app"
    assert not any(services[n]["ports"] for n in app_services), "app replicas publish ports themselves"

    assert with_image(r"^(docker\.io/)?(library/)?postgres[:@]"), "no PostgreSQL"
    assert with_image(r"^(docker\.io/)?getmeili/meilisearch[:@]"), "no Meilisearch from its official image"
    assert with_image(r"^quay\.io/keycloak/keycloak[:@]"), "no Keycloak"
    assert with_image(r"(^|/)(axllent/mailpit|mailhog/mailhog|maildev/maildev)([:@]|$)"), "no mail catcher"

    # every long-running service has a health check; one-shot jobs (restart "no") may turn it off
    for name, service in services.items():
        if service["restart"] != "no":
            assert service["healthcheck"] == "on", f"service {name!r} has no health check"

    # state lives in named volumes, each declared at the top level
    assert config["volumes"], "no named volumes"
    for name, service in services.items():
        for volume in service["volumes"]:
            assert volume in config["volumes"], f"{name}: volume {volume!r} is not declared"
    for image in (r"postgres", r"getmeili/meilisearch", r"keycloak"):
        for name in with_image(image):
            assert services[name]["volumes"], f"{name} keeps its data outside a named volume"
    for name in app_services:
        assert services[name]["volumes"], f"{name} keeps uploads outside a named volume"

    # `config` does not look at bind-mounted files: check they exist in the repository
    for name, service in services.items():
        for source in service["binds"]:
            path = Path(source) if Path(source).is_absolute() else ROOT / source
            assert path.exists(), f"{name} mounts {source}, which is not in the repository"
