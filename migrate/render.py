"""`render`: one phase's resources as files a person can read and `kubectl apply -f`.
See docs/design/render.md."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.desired.spec import DesiredState, ResourceSpec
from migrate.phases import stale
from migrate.state import load, previous_phase, state_at
from migrate.yamlio import dump

KUBERNETES_FILE = "kubernetes.yaml"
PATCHES_FILE = "patches.yaml"
AZURE_FILE = "azure.yaml"
LIFECYCLE_FILE = "lifecycle.yaml"


@dataclass(frozen=True)
class Rendered:
    kubernetes: str
    patches: str
    azure: str
    lifecycle: str

    def files(self) -> dict[str, str]:
        return {
            KUBERNETES_FILE: self.kubernetes,
            PATCHES_FILE: self.patches,
            AZURE_FILE: self.azure,
            LIFECYCLE_FILE: self.lifecycle,
        }


def deleted_by_phase(state: DesiredState, previous: DesiredState | None) -> list[ResourceSpec]:
    """Resources of the previous phase's desired state that this phase no longer declares."""
    if previous is None:
        return []
    kept = {spec.name for spec in state.resources}
    return [spec for spec in previous.resources if spec.name not in kept]


def lifecycle_of(spec: ResourceSpec) -> dict[str, Any]:
    """The resource options that change what the engine does: where it sits (parent component,
    provider), then only the options that are set."""
    options: dict[str, Any] = {
        "parent": f"{spec.parent_types[-1]}::{spec.component}" if spec.parent_types else spec.component,
        "provider": spec.provider,
    }
    if spec.import_id:
        options["import"] = spec.import_id
    if spec.protect:
        options["protect"] = True
    if spec.ignore_changes:
        options["ignoreChanges"] = list(spec.ignore_changes)
    if spec.replace_on_changes:
        options["replaceOnChanges"] = list(spec.replace_on_changes)
    if spec.delete_before_replace:
        options["deleteBeforeReplace"] = True
    if spec.depends_on:
        options["dependsOn"] = list(spec.depends_on)
    if spec.retain_on_delete:
        options["retainOnDelete"] = True
    if spec.deleted_with:
        options["deletedWith"] = spec.deleted_with
    return options


def _comment(spec: ResourceSpec) -> list[str]:
    lines = [f"# {spec.label}: pulumi name {spec.name!r}, type {spec.type}, component {spec.component}"]
    options = lifecycle_of(spec)
    if "import" in options:
        lines.append(f"#   adopted with import: {options['import']}")
    if spec.protect:
        lines.append("#   protected: the engine refuses to delete it (`pulumi state unprotect` first)")
    for key, title in (
        ("ignoreChanges", "ignore_changes"),
        ("replaceOnChanges", "replace_on_changes"),
        ("dependsOn", "depends_on"),
    ):
        if key in options:
            lines.append(f"#   {title}: {', '.join(options[key])}")
    if spec.delete_before_replace:
        lines.append("#   delete_before_replace: the old one is deleted before its replacement exists")
    if spec.retain_on_delete:
        lines.append("#   retain_on_delete: removing it leaves its fields as they are (no relinquish)")
    if spec.deleted_with:
        lines.append(f"#   deleted_with: {spec.deleted_with}")
    return lines


def _deleted_lines(specs: list[ResourceSpec], phase: str) -> list[str]:
    if not specs:
        return []
    lines = ["", f"# Deleted by this phase ({phase}): declared by the previous phase, absent now."]
    for spec in specs:
        protected = " (protected: `pulumi state unprotect` first)" if spec.protect else ""
        lines.append(f"#   - {spec.label}: pulumi name {spec.name!r}, type {spec.type}{protected}")
    return lines


def _stream(header: str, specs: list[ResourceSpec], deleted: list[ResourceSpec], phase: str) -> str:
    parts = [header]
    for spec in specs:
        parts.append("---")
        parts.extend(_comment(spec))
        parts.append(dump(spec.inputs).rstrip("\n"))
    parts.extend(_deleted_lines(deleted, phase))
    parts.append("")  # the final line break, without copying the whole text once more
    return "\n".join(parts)


def render(state: DesiredState, previous: DesiredState | None) -> Rendered:
    kubernetes = [spec for spec in state.resources if spec.is_kubernetes and not spec.is_patch]
    patches = [spec for spec in state.resources if spec.is_patch]
    azure = [spec for spec in state.resources if not spec.is_kubernetes]
    deleted = deleted_by_phase(state, previous)
    previous_name = previous.phase if previous else None
    del previous  # the rest of it is not written: freed before the texts are made (no other reference)
    phase = state.phase
    kubernetes_text = _stream(
        f"# Phase {phase}: Kubernetes objects, in registration order. Valid input for `kubectl apply -f`.",
        kubernetes,
        [s for s in deleted if s.is_kubernetes and not s.is_patch],
        phase,
    )
    patches_text = _stream(
        f"# Phase {phase}: server-side apply patches; each owns only the fields it holds. Valid input for "
        "`kubectl apply --server-side --force-conflicts -f`.",
        patches,
        [s for s in deleted if s.is_patch],
        phase,
    )
    azure_text = _stream(
        f"# Phase {phase}: Azure resources (ARM inputs), in registration order.",
        azure,
        [s for s in deleted if not s.is_kubernetes],
        phase,
    )
    entries = []
    for file, specs in ((KUBERNETES_FILE, kubernetes), (PATCHES_FILE, patches), (AZURE_FILE, azure)):
        for index, spec in enumerate(specs):
            entries.append(
                {
                    "name": spec.name,
                    "type": spec.type,
                    "component": spec.component,
                    "label": spec.label,
                    "file": file,
                    "document": index,
                    "lifecycle": lifecycle_of(spec),
                }
            )
    lifecycle = {
        "phase": phase,
        "previousPhase": previous_name,
        "resources": entries,
        "deletedByThisPhase": [
            {
                "name": spec.name,
                "type": spec.type,
                "component": spec.component,
                "label": spec.label,
                "lifecycle": lifecycle_of(spec),
            }
            for spec in deleted
        ],
    }
    lifecycle_text = (
        "# Every resource of the phase with its Pulumi lifecycle; `document` indexes the file's documents.\n"
        + dump(lifecycle)
    )
    return Rendered(kubernetes_text, patches_text, azure_text, lifecycle_text)


@dataclass(frozen=True)
class RenderedStack:
    """`render` of a stack file: its phase, the files, and why `check` would refuse the file."""

    phase: str
    rendered: Rendered
    warnings: list[str]


def render_stack_file(stack_file: Path, root: Path) -> RenderedStack:
    """A stack file's phase rendered (deletions against the phase before it), as the file is."""
    # Resources only: the traffic analysis (each workload's share per entry point) is not rendered.
    loaded = load(stack_file, root, analysed=False)
    warnings = [f"{line} (`check` refuses it; rendered as the file is)" for line in stale(stack_file, root)]
    previous = previous_phase(loaded.migration.config.phase)
    # Handed over, not kept here: render lets the previous phase go once its deletions are known.
    rendered = render(
        loaded.state, state_at(loaded.migration, previous, analysed=False) if previous else None
    )
    return RenderedStack(loaded.migration.config.phase.value, rendered, warnings)
