"""components/export/rules.py: an export's values checked with Kubernetes' grammars, through `check`
(one line naming where, what is allowed and the value; exit 1; never a traceback)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.core.config import Phase
from components.export.rules import dns1035_label, export_problems, port_name
from tests.conftest import ROOT, load_raw, phase_path, run_bounded

HELLO = ROOT / "manifests/legacy/web/hello-spin.yaml"


def _deployment(export: dict[str, Any]) -> dict[str, Any]:
    return next(item for item in export["items"] if item["kind"] == "Deployment")


def _service(export: dict[str, Any]) -> dict[str, Any]:
    return next(item for item in export["items"] if item["kind"] == "Service")


def _template(export: dict[str, Any]) -> dict[str, Any]:
    return _deployment(export)["spec"]["template"]


def _set(path: Callable[[dict[str, Any]], dict[str, Any]], key: str, value: Any) -> Callable[[dict], None]:
    def change(export: dict[str, Any]) -> None:
        path(export)[key] = value

    return change


def _annotate(key: str) -> Callable[[dict], None]:
    def change(export: dict[str, Any]) -> None:
        _template(export)["metadata"]["annotations"] = {key: "x"}

    return change


def _label(key: str, value: str) -> Callable[[dict], None]:
    def change(export: dict[str, Any]) -> None:
        _template(export)["metadata"]["labels"][key] = value

    return change


def _image(value: str) -> Callable[[dict], None]:
    def change(export: dict[str, Any]) -> None:
        _template(export)["spec"]["containers"][0]["image"] = value

    return change


CASES = {
    "annotation key opening an HTML comment": (
        _annotate("team\n<!-- hidden"),
        "Deployment web/hello-spin: spec.template.metadata.annotations key: must be a Kubernetes label key",
    ),
    "label key with backticks and an image": (
        _label("a`<img src=https://evil.example/x.png>`", "v"),
        "Deployment web/hello-spin: spec.template.metadata.labels key: must be a Kubernetes label key",
    ),
    "label value with a newline": (
        _label("team", "a\nb"),
        "Deployment web/hello-spin: spec.template.metadata.labels[team]: must be a Kubernetes label value",
    ),
    "image with spaces and a markdown link": (
        _image("with spaces and a [markdown](link)"),
        "Deployment web/hello-spin: spec.template.spec.containers[0].image: must be an OCI image reference",
    ),
    "selector that does not match the template": (
        _set(lambda e: _deployment(e)["spec"]["selector"], "matchLabels", {"app": "other"}),
        "Deployment web/hello-spin: spec.selector: does not match the template's labels",
    ),
    "no containers": (
        _set(lambda e: _template(e)["spec"], "containers", []),
        "Deployment web/hello-spin: spec.template.spec.containers: a pod needs at least one container",
    ),
    "Service name with markdown": (
        _set(lambda e: _service(e)["metadata"], "name", "hello](https://evil.example)"),
        "Service web/hello](https://evil.example): metadata.name: must be a DNS-1035 label",
    ),
    "Service port name": (
        _set(lambda e: _service(e)["spec"]["ports"][0], "name", "http<b>"),
        "spec.ports[0].name: must be an IANA service name",
    ),
    "Service selector key": (
        _set(lambda e: _service(e)["spec"], "selector", {"app": "hello-spin", "x|y": "z"}),
        "Service hello-spin: selector matchLabels key: must be a Kubernetes label key",
    ),
    "container name": (
        _set(lambda e: _template(e)["spec"]["containers"][0], "name", "Hello Spin"),
        "spec.template.spec.containers[0].name: must be a DNS-1123 label",
    ),
}


def _write(project_dir: Path, change: Callable[[dict], None]) -> Path:
    export = yaml.safe_load(HELLO.read_text())
    change(export)
    manifest = project_dir / "hello-spin.yaml"
    manifest.write_text(yaml.safe_dump(export))
    raw = load_raw(phase_path(Phase.PREPARE))
    raw["workloads"] = [{**copy.deepcopy(raw["workloads"][0]), "manifest": str(manifest.relative_to(ROOT))}]
    stack = project_dir / "stack.yaml"
    stack.write_text(yaml.safe_dump({"config": {f"aks-wasm-migration:{k}": v for k, v in raw.items()}}))
    return stack


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_check_refuses_with_one_line(project_dir, case):
    change, expected = CASES[case]
    answer = run_bounded(["check", _write(project_dir, change), "--kubernetes-version", "1.33"])
    assert answer.code == 1, answer.err + answer.out
    assert "Traceback" not in answer.err + answer.out
    lines = [line for line in answer.out.splitlines() if "workloads[0].manifest" in line]
    assert len(lines) == 1 and expected in lines[0], lines
    assert lines[0].endswith(")"), lines  # the value, shown escaped: "(got ...)"
    assert "\n" not in lines[0] and "<!--" not in lines[0].split("(got")[0]


def test_the_reference_exports_pass():
    for path in (ROOT / "manifests/legacy").rglob("*.yaml"):
        assert export_problems(yaml.safe_load(path.read_text())["items"]) == [], path


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (dns1035_label, ["a", "hello-spin", "a" * 63], ["1a", "a-", "A", "a" * 64, "a.b", ""]),
        (port_name, ["http", "h2c", "metrics-1"], ["80", "-http", "http-", "a--b", "a" * 16, "HTTP", ""]),
    ],
)
def test_grammars(rule, good, bad):
    for value in good:
        assert rule(value) == value
    for value in bad:
        with pytest.raises(ValueError):
            rule(value)
