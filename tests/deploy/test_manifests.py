"""The deployment files agree with the code: service names, ports, probe paths, settings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from gateway.settings import GatewaySettings
from services import registry
from services.kernel.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s" / "base"
SERVICES = {s.name: s.port for s in registry.SERVICES} | {"gateway": registry.GATEWAY_PORT}


def settings_names() -> set[str]:
    names: set[str] = set()
    classes: list[type[ServiceSettings]] = [GatewaySettings]
    classes += [s.app_module.settings_class for s in registry.SERVICES]
    for cls in classes:
        names |= {f"JIYUE_{f.upper()}" for f in cls.model_fields}
    return names


def k8s_docs() -> list[dict]:
    docs = []
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    for res in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((K8S / res).read_text()) if d]
    return docs


def test_every_service_has_a_deployment_with_probes_resources_pdb_and_hpa() -> None:
    docs = k8s_docs()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for name, port in SERVICES.items():
        assert ("Deployment", f"jiyue-{name}") in kinds
        assert ("PodDisruptionBudget", f"jiyue-{name}") in kinds
        assert ("HorizontalPodAutoscaler", f"jiyue-{name}") in kinds
        assert ("Service", name) in kinds
        dep = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == f"jiyue-{name}")
        container = dep["spec"]["template"]["spec"]["containers"][0]
        assert container["ports"][0]["containerPort"] == port
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["requests"] and container["resources"]["limits"]
        cmd = container["command"]
        assert cmd[:2] == ["jiyue", "serve"] and str(port) in cmd
        if name != "gateway":
            assert cmd[2] == name
    assert ("Job", "jiyue-migrate") in kinds
    assert any(d["kind"] == "Ingress" for d in docs)


def test_compose_matches_registry_and_settings() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    for name, port in SERVICES.items():
        cmd = services[name]["command"]
        assert str(port) in cmd and cmd[:2] == ["jiyue", "serve"]
    assert services["migrate"]["command"] == ["jiyue", "migrate"]
    for svc in ("postgres", "elasticsearch", "minio"):
        assert svc in services


def test_configured_settings_names_exist_in_code() -> None:
    known = settings_names()
    texts = [
        (K8S / "config.yaml").read_text(),
        (K8S / "secrets.example.yaml").read_text(),
        (ROOT / "deploy" / "compose.yaml").read_text(),
        (ROOT / "deploy" / "jiyue.env.example").read_text(),
    ]
    used = set()
    for text in texts:
        used |= set(re.findall(r"\b(JIYUE_[A-Z0-9_]+)\b", text))
    unknown = sorted(used - known)
    assert not unknown, f"deployment files name settings the code does not have: {unknown}"


def test_service_urls_in_config_use_registry_ports() -> None:
    config = yaml.safe_load((K8S / "config.yaml").read_text())["data"]

    urls = json.loads(config["JIYUE_SERVICE_URLS"])
    assert set(urls) == {s.name for s in registry.SERVICES}
    for name, url in urls.items():
        assert url.endswith(f":{SERVICES[name]}")
