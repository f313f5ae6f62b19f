"""deploy/: the files parse, carry what each use needs, and name only real settings.
(No container engine runs here, so the image itself is not built by the suite; the wheel
it installs is, in test_wheel.py.)"""

import re
from pathlib import Path

import pytest
import yaml

from proxy.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def documents(name: str) -> list[dict]:
    return [document for document in yaml.safe_load_all((DEPLOY / name).read_text()) if document]


def env_of(container: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container.get("env", [])}


def all_settings(names) -> None:
    """Every KLP_ variable is a setting the proxy knows (a typo would be silently ignored by k8s)."""
    for name in names:
        if name.startswith("KLP_"):
            assert name.removeprefix("KLP_").lower() in {f for f in Settings.__dataclass_fields__}, name


def test_dockerfile_is_multi_stage_non_root_and_drains_on_sigterm():
    text = (DEPLOY / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)\s+AS\s+(\w+)", text, re.MULTILINE)
    assert [name for _, name in stages] == ["build", "runtime"]
    assert "COPY --from=build" in text
    (user,) = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert user.split(":")[0] not in ("root", "0")
    # The health check reads the configured port (KLP_PORT, KLP_CONFIG) instead of a fixed one.
    assert re.search(r'^HEALTHCHECK .*CMD \["klaviyo-legacy-proxy", "health"\]', text, re.MULTILINE)
    assert "8080/healthz" not in text
    assert re.search(r'^ENTRYPOINT \["klaviyo-legacy-proxy"\]', text, re.MULTILINE)
    assert "STOPSIGNAL SIGTERM" in text
    all_settings(re.findall(r"\b(KLP_[A-Z_]+)=", text))


def test_the_image_gets_the_spec_and_the_table_through_the_wheel_and_a_small_context():
    text = (DEPLOY / "Dockerfile").read_text()
    build_stage = text.split("AS runtime")[0]
    copied = re.findall(r"^COPY (\S+) ", build_stage, re.MULTILINE)
    assert sorted(copied) == ["mappings", "proxy", "pyproject.toml"]  # README.md rides with pyproject.toml
    assert "KLP_MAPPINGS_DIR" not in text  # the table is package data, not a loose copy
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") :][:1] == ["*"]  # everything out, then only the sources back in
    allowed = {line.removeprefix("!").rstrip("/") for line in ignore if line.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "proxy", "mappings"}
    assert (ROOT / "proxy" / "mappings").resolve() == (ROOT / "mappings").resolve()


def test_compose_runs_two_replicas_on_redis_in_front_of_the_sandbox():
    (compose,) = documents("compose.yaml")
    services = compose["services"]
    for name, service in services.items():
        if service.get("image", "").startswith("klaviyo-legacy-proxy"):
            assert service["build"]["dockerfile"] == "deploy/Dockerfile", name  # built, never pulled
    assert {"sandbox", "redis", "proxy-a", "proxy-b"} <= set(services)
    assert services["sandbox"]["command"][0] == "sandbox"
    assert "--appendonly" in services["redis"]["command"]
    replicas = [services[name] for name in ("proxy-a", "proxy-b")]
    for replica in replicas:
        assert replica["environment"]["KLP_UPSTREAM"] == "http://sandbox:8081"
        assert replica["environment"]["KLP_REDIS_URL"].startswith("redis://redis:")
        assert replica["depends_on"]["redis"]["condition"] == "service_healthy"
        all_settings(replica["environment"])
        load_settings(environ={k: str(v) for k, v in replica["environment"].items()})
    assert len({replica["ports"][0].split(":")[0] for replica in replicas}) == 2


def pod_containers(name: str) -> tuple[dict, list[dict]]:
    deployment = next(d for d in documents(name) if d["kind"] == "Deployment")
    assert deployment["apiVersion"] == "apps/v1"
    spec = deployment["spec"]
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    return deployment, spec["template"]["spec"]["containers"]


def proxy_container(containers: list[dict]) -> dict:
    return next(c for c in containers if c["name"] == "klaviyo-legacy-proxy")


@pytest.mark.parametrize("name", ["kubernetes/sidecar.yaml", "kubernetes/deployment.yaml"])
def test_proxy_pods_have_probes_a_drain_and_no_root(name):
    deployment, containers = pod_containers(name)
    proxy = proxy_container(containers)
    for probe in ("livenessProbe", "readinessProbe"):
        assert probe in proxy
    liveness = yaml.safe_dump(proxy["livenessProbe"])
    assert "/healthz" in liveness or "klaviyo-legacy-proxy\n  - health" in liveness
    assert "/readyz" in yaml.safe_dump(proxy["readinessProbe"])
    assert proxy["lifecycle"]["preStop"]
    assert proxy["securityContext"]["runAsNonRoot"] is True and proxy["securityContext"]["runAsUser"] != 0
    assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > int(env_of(proxy)["KLP_SPOOL_DRAIN_TIMEOUT"]["value"])
    all_settings(env_of(proxy))


def test_the_sidecar_injects_the_key_from_a_secret():
    _, containers = pod_containers("kubernetes/sidecar.yaml")
    assert len(containers) == 2
    env = env_of(proxy_container(containers))
    assert env["KLP_PRIVATE_KEY"]["valueFrom"]["secretKeyRef"]["key"]
    assert env["KLP_PRIVATE_KEY_MODE"]["value"] == "always"
    app = next(c for c in containers if c["name"] != "klaviyo-legacy-proxy")
    assert "env" not in app  # the proxy reads no variable of the app's; the README gives each client's change


def test_the_shared_deployment_has_a_service_and_shares_redis():
    deployment, containers = pod_containers("kubernetes/deployment.yaml")
    service = next(d for d in documents("kubernetes/deployment.yaml") if d["kind"] == "Service")
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert deployment["spec"]["replicas"] >= 2
    assert env_of(proxy_container(containers))["KLP_REDIS_URL"]["valueFrom"]["secretKeyRef"]


def test_kubernetes_has_the_redis_the_shared_deployment_requires():
    documents_ = documents("kubernetes/redis.yaml")
    stateful = next(d for d in documents_ if d["kind"] == "StatefulSet")
    service = next(d for d in documents_ if d["kind"] == "Service")
    (redis,) = stateful["spec"]["template"]["spec"]["containers"]
    assert "--appendonly" in redis["args"] and stateful["spec"]["volumeClaimTemplates"]
    assert service["spec"]["selector"].items() <= stateful["spec"]["template"]["metadata"]["labels"].items()
    assert f"redis://{service['metadata']['name']}:6379" in (DEPLOY / "kubernetes" / "deployment.yaml").read_text()
