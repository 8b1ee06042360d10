"""deploy/k8s/: valid Kubernetes, and a worker run the way preavis must run.

Every manifest is checked against the API schemas of fixed Kubernetes
versions with kubernetes-validate, whose strict schemas also refuse an unknown
or misspelt field (which the API server would drop in silence). The package
bundles the schemas; the check runs with every socket refused, as it must on a
machine without a network.

A manifest the API server accepts can still run preavis wrong, so the rest
checks what the schemas cannot: each face on its own Service, the probes on
the health route and on the port of its face, a RocksDB volume per worker
where ``PREAVIS_DATA_DIR`` points, secrets only by reference, every
``PREAVIS_*`` name a real setting, and the placeholders refused by the
worker's own checks (``streams.settings``, ``streams.safety``).
"""

from __future__ import annotations

import ast
import copy
import functools
import io
import os
import re
import secrets
import socket
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr, ValidationError

from notifications.smtp import QUIT_TIMEOUT
from streams import kafka
from streams.safety import MIN_PRODUCTION_SECRET_BYTES, production_problems, refuses_to_start
from streams.settings import Settings, smtp_config
from streams.web.surface import Face, face_of, faces_of_port

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
#: the oldest Kubernetes the manifests are written for (deploy/k8s/README.md),
#: and the newest whose schemas the pinned kubernetes-validate bundles
KUBERNETES_VERSIONS = ("1.30", "1.37")
MANIFESTS = sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
SECRET_TEMPLATE = "secret.yaml"
PLACEHOLDER = "REPLACE_ME"

Resource = dict[str, Any]


@functools.cache
def parsed(name: str) -> tuple[Resource, ...]:
    with (K8S / name).open(encoding="utf-8") as handle:
        return tuple(doc for doc in yaml.safe_load_all(handle) if doc)


def documents(name: str) -> list[Resource]:
    """The resources of one file, a copy a test may change."""
    return copy.deepcopy(list(parsed(name)))


def resource(kind: str, name: str) -> Resource:
    found = [
        doc
        for file in MANIFESTS
        for doc in documents(file)
        if doc["kind"] == kind and doc["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} in deploy/k8s"
    return found[0]


def config() -> dict[str, str]:
    data: dict[str, str] = resource("ConfigMap", "preavis-config")["data"]
    return data


def template_secrets() -> dict[str, str]:
    data: dict[str, str] = resource("Secret", "preavis-secrets")["stringData"]
    return data


def pod() -> Resource:
    spec: Resource = resource("StatefulSet", "preavis-worker")["spec"]["template"]["spec"]
    return spec


def worker() -> Resource:
    (container,) = pod()["containers"]
    assert isinstance(container, dict)
    return container


def container_port(name: str) -> int:
    ports = {p["name"]: p["containerPort"] for p in worker()["ports"]}
    return int(ports[name])


def settings_of(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings a worker reads from exactly ``env``, as the pod gives it."""
    for name in [n for n in os.environ if n.upper().startswith("PREAVIS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings()


def real_secrets() -> dict[str, str]:
    """The Secret as an operator fills it in: random values of production length."""
    return {name: secrets.token_hex(MIN_PRODUCTION_SECRET_BYTES) for name in template_secrets()}


def secret_settings() -> set[str]:
    """The variables of the settings that are ``SecretStr``: never in a ConfigMap or inline."""
    return {
        f"PREAVIS_{name.upper()}"
        for name, field in Settings.model_fields.items()
        if field.annotation is SecretStr or SecretStr in typing.get_args(field.annotation)
    }


def selects_workers(selector: dict[str, str]) -> bool:
    labels = resource("StatefulSet", "preavis-worker")["spec"]["template"]["metadata"]["labels"]
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every socket connection fails: the schemas must come from the package."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


# --- the schemas ------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", MANIFESTS)
def test_manifest_is_valid_kubernetes(name: str, version: str, offline: None) -> None:
    docs = documents(name)
    assert docs, f"{name} holds no resource"
    for doc in docs:
        # the version validated against is the one asked for, not an older fallback
        assert kubernetes_validate.validate(doc, version, strict=True) == version


def test_validation_refuses_a_misspelt_field(offline: None) -> None:
    """The check above can fail: a typo the API server would drop is an error here."""
    statefulset = resource("StatefulSet", "preavis-worker")
    statefulset["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError, match="readinesProbe"):
        kubernetes_validate.validate(statefulset, KUBERNETES_VERSIONS[0], strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_template() -> None:
    (kustomization,) = documents("kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(set(MANIFESTS) - {SECRET_TEMPLATE})
    (image,) = kustomization["images"]
    assert image["name"] == worker()["image"]
    # applied on its own, the template must name the namespace kustomize would have set
    secret = resource("Secret", "preavis-secrets")
    assert secret["metadata"]["namespace"] == kustomization["namespace"]


# --- settings and secrets ---------------------------------------------------------------


def test_every_preavis_variable_is_a_setting() -> None:
    used = {*config(), *template_secrets(), *(env["name"] for env in worker()["env"])}
    assert used, "no PREAVIS_* variable found"
    unknown = sorted(
        name
        for name in used
        if not name.startswith("PREAVIS_") or setting(name) not in Settings.model_fields
    )
    assert unknown == [], f"not in streams/settings.py: {unknown}"


def test_secrets_are_only_referenced_from_the_secret() -> None:
    assert secret_settings() & set(config()) == set(), "a secret in the ConfigMap"
    assert set(template_secrets()) <= secret_settings(), "a non-secret in the Secret"
    required: set[str] = set()
    for env in worker()["env"]:
        assert "value" not in env, f"{env['name']} has an inline value"
        ref = env["valueFrom"]["secretKeyRef"]
        assert (ref["name"], ref["key"]) == ("preavis-secrets", env["name"])
        assert env["name"] in secret_settings()
        if not ref.get("optional", False):
            required.add(env["name"])
    # the template holds every key a worker needs to start, and the worker reads them all
    assert required == set(template_secrets())
    assert worker()["envFrom"] == [{"configMapRef": {"name": "preavis-config"}}]


def test_secret_template_placeholders_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    template = template_secrets()
    assert set(template.values()) == {PLACEHOLDER}
    # even a check of the length alone refuses them
    assert len(PLACEHOLDER.encode()) < MIN_PRODUCTION_SECRET_BYTES
    with pytest.raises(ValidationError, match="link_secret"):
        settings_of({**config(), **template}, monkeypatch)
    # with a real link secret, the worker still refuses both tokens, naming each
    env = {**config(), **template, "PREAVIS_LINK_SECRET": secrets.token_hex(32)}
    out = io.StringIO()
    assert refuses_to_start(settings_of(env, monkeypatch), stream=out)
    assert "PREAVIS_ADMIN_TOKEN" in out.getvalue()
    assert "PREAVIS_COMPLIANCE_TOKEN" in out.getvalue()
    assert PLACEHOLDER not in out.getvalue()


def test_configmap_is_fit_for_production(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of({**config(), **real_secrets()}, monkeypatch)
    assert production_problems(settings) == []
    assert not settings.development
    assert settings.store == "rocksdb://"
    assert settings.public_url.startswith("https://")
    assert settings.kafka_security_protocol == "SASL_SSL"
    assert settings.topic_replication >= 3
    # the Kafka settings agree with each other (a SASL login with a password)
    assert kafka.client_kwargs(settings)["security_protocol"] == "SASL_SSL"
    # a password travels only over TLS
    assert smtp_config(settings).tls in ("starttls", "implicit")


# --- the StatefulSet --------------------------------------------------------------------


def test_workers_are_at_most_the_partitions() -> None:
    spec = resource("StatefulSet", "preavis-worker")["spec"]
    assert 1 <= spec["replicas"] <= int(config()["PREAVIS_TOPIC_PARTITIONS"])
    assert spec["podManagementPolicy"] == "Parallel"
    assert "AT MOST PREAVIS_TOPIC_PARTITIONS" in (K8S / "statefulset.yaml").read_text()


def test_each_worker_has_its_own_volume_at_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of({**config(), **real_secrets()}, monkeypatch)
    spec = resource("StatefulSet", "preavis-worker")["spec"]
    claims = {c["metadata"]["name"]: c["spec"] for c in spec["volumeClaimTemplates"]}
    mounts = {m["mountPath"]: m["name"] for m in worker()["volumeMounts"]}
    claim = mounts[settings.data_dir]
    assert claim in claims, f"{settings.data_dir} is not on a claim of its own"
    assert claims[claim]["accessModes"] == ["ReadWriteOnce"]
    # a pod volume of the same name would replace the claim with a shared volume
    assert claim not in {v["name"] for v in pod().get("volumes", [])}


def test_everything_written_is_on_a_writable_mount(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of({**config(), **real_secrets()}, monkeypatch)
    assert worker()["securityContext"]["readOnlyRootFilesystem"] is True
    writable = [Path(m["mountPath"]) for m in worker()["volumeMounts"] if not m.get("readOnly")]
    for path in (Path(settings.data_dir), Path(settings.drafts_dir), Path("/tmp")):
        assert path.is_absolute() and any(path.is_relative_to(m) for m in writable), path


def setting(variable: str) -> str:
    """The field of ``Settings`` that ``PREAVIS_X_Y`` sets: ``x_y``."""
    return variable.removeprefix("PREAVIS_").lower()


def health_route() -> str:
    """The path that streams/health/views.py registers with ``@app.page``."""
    tree = ast.parse((ROOT / "streams" / "health" / "views.py").read_text(encoding="utf-8"))
    paths = [
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "page"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ]
    assert len(paths) == 1, paths
    return str(paths[0])


@pytest.mark.parametrize("probe", ["startupProbe", "readinessProbe", "livenessProbe"])
def test_probe_asks_the_health_route_on_the_port_of_its_face(
    probe: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_of({**config(), **real_secrets()}, monkeypatch)
    get = worker()[probe]["httpGet"]
    assert get["path"] == health_route()
    port = container_port(get["port"])
    face = face_of(get["path"])
    assert face is not None
    assert face in faces_of_port(port, settings.web_port, settings.admin_port)


def test_listens_where_the_services_and_probes_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of({**config(), **real_secrets()}, monkeypatch)
    assert (settings.web_host, settings.admin_host) == ("0.0.0.0", "0.0.0.0")
    assert container_port("public") == settings.web_port
    assert container_port("admin") == settings.admin_port


def test_service_links_are_off_since_they_would_shadow_settings() -> None:
    services = [
        d["metadata"]["name"] for f in MANIFESTS for d in parsed(f) if d["kind"] == "Service"
    ]
    # what Kubernetes would add for each Service: NAME_SERVICE_HOST, NAME_PORT...
    links = {
        f"{service.upper().replace('-', '_')}_{suffix}"
        for service in services
        for suffix in ("SERVICE_HOST", "SERVICE_PORT", "PORT")
    }
    shadowed = {
        n for n in links if n.startswith("PREAVIS_") and setting(n) in Settings.model_fields
    }
    assert "PREAVIS_ADMIN_PORT" in shadowed  # the Service preavis-admin
    assert pod()["enableServiceLinks"] is False


def test_runs_as_the_images_user_without_privileges() -> None:
    uid = int(re.findall(r"--uid (\d+)", (ROOT / "deploy" / "Dockerfile").read_text())[0])
    context = pod()["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == context["fsGroup"] == uid
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod()["automountServiceAccountToken"] is False
    container = worker()["securityContext"]
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    resources = worker()["resources"]
    for bound in ("requests", "limits"):
        assert set(resources[bound]) >= {"cpu", "memory"}, bound


def test_grace_period_outlasts_a_notice_being_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_of({**config(), **real_secrets()}, monkeypatch)
    in_flight = smtp_config(settings).timeout + QUIT_TIMEOUT
    # as much again for the offsets' commit, the producer's flush and RocksDB's close
    assert pod()["terminationGracePeriodSeconds"] >= 2 * in_flight


# --- Services and who reaches them ------------------------------------------------------


def service_faces(name: str, monkeypatch: pytest.MonkeyPatch) -> set[Face]:
    """The faces a Service's ports reach on a worker."""
    settings = settings_of({**config(), **real_secrets()}, monkeypatch)
    service = resource("Service", name)
    assert selects_workers(service["spec"]["selector"])
    faces: set[Face] = set()
    for port in service["spec"]["ports"]:
        target = port["targetPort"]
        number = container_port(target) if isinstance(target, str) else int(target)
        faces |= faces_of_port(number, settings.web_port, settings.admin_port)
    return faces


def test_public_and_admin_faces_have_a_service_each(monkeypatch: pytest.MonkeyPatch) -> None:
    assert service_faces("preavis-public", monkeypatch) == {Face.PUBLIC}
    assert service_faces("preavis-admin", monkeypatch) == {Face.INTERNAL}
    assert resource("Service", "preavis-admin")["spec"]["type"] == "ClusterIP"
    headless = resource("Service", "preavis-worker")["spec"]
    assert headless["clusterIP"] == "None" and "ports" not in headless
    assert resource("StatefulSet", "preavis-worker")["spec"]["serviceName"] == "preavis-worker"


def test_only_the_ingress_reaches_the_public_port() -> None:
    policy = resource("NetworkPolicy", "preavis-worker")["spec"]
    assert selects_workers(policy["podSelector"]["matchLabels"])
    assert "Ingress" in policy["policyTypes"]
    by_port: dict[str, list[Resource]] = {}
    for rule in policy["ingress"]:
        # a rule without ports or peers would open every port, or to everyone
        assert rule["ports"] and rule["from"], rule
        for port in rule["ports"]:
            by_port.setdefault(port["port"], []).extend(rule["from"])
    assert set(by_port) == {"public", "admin"}
    (peer,) = by_port["public"]
    assert set(peer) == {"namespaceSelector", "podSelector"}  # both: the ingress's pods only
    assert "ingress" in str(peer["namespaceSelector"])


def test_disruptions_take_one_worker_at_a_time() -> None:
    budget = resource("PodDisruptionBudget", "preavis-worker")["spec"]
    assert selects_workers(budget["selector"]["matchLabels"])
    assert budget["maxUnavailable"] == 1
