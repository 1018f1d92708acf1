"""The configuration reference, generated from the pydantic model (components/core/config.py): the
markdown of docs/configuration.md and the `description` of each top-level key in Pulumi.yaml.
Descriptions come from the fields' `description`, types, limits and defaults from the model itself, so
nothing is restated.

`python -m migrate.config_reference --write` regenerates both files; `--check` exits 1 when either is out
of date; without an option it prints the markdown. tests/test_config_reference.py holds the files equal
to what this module produces."""

from __future__ import annotations

import json
import re
import sys
import types
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from components.core.config import PROJECT, MigrationConfig
from migrate import markdown

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = Path("docs/configuration.md")
PROJECT_FILE = Path("Pulumi.yaml")
COMMAND = "python -m migrate.config_reference --write"

_INTRO = """\
Every key of a stack file, under the `{project}:` namespace. The program and every `migrate` command
validate the whole config before anything is registered. A bad value gets one line naming the key, the
value and what is allowed. A key marked required must be set whenever the object holding it is set.
How values are checked, and the names generated from them: [input-safety.md](input-safety.md)."""


def _header() -> str:
    return f"<!-- GENERATED from components/core/config.py by `{COMMAND}`: do not edit. -->"


def _strip(annotation: Any) -> tuple[Any, list[Any]]:
    """The annotation without `Annotated`, and the metadata it carried."""
    metadata: list[Any] = []
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        metadata.extend(extra)
    return annotation, metadata


def _members(annotation: Any) -> list[Any]:
    """The members of a union (`X | None`), else the annotation itself."""
    annotation, _ = _strip(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return [member for member in get_args(annotation) if member is not type(None)]
    return [annotation]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The config model an annotation holds, directly, in a union or as the items of a list."""
    for member in _members(annotation):
        member, _ = _strip(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
        if get_origin(member) is tuple:
            inner = _model_of(get_args(member)[0])
            if inner is not None:
                return inner
    return None


def _is_list(annotation: Any) -> bool:
    return any(get_origin(_strip(member)[0]) is tuple for member in _members(annotation))


def _limits(metadata: list[Any]) -> str:
    """Numeric bounds and lengths of a field, in words."""
    words = []
    for item in metadata:
        if isinstance(item, annotated_types.Ge):
            words.append(f"at least {item.ge}")
        elif isinstance(item, annotated_types.Gt):
            words.append(f"above {item.gt}")
        elif isinstance(item, annotated_types.Le):
            words.append(f"at most {item.le}")
        elif isinstance(item, annotated_types.Lt):
            words.append(f"below {item.lt}")
        elif isinstance(item, annotated_types.MaxLen):
            words.append(f"at most {item.max_length} items")
    return ", ".join(words)


def _type(annotation: Any, metadata: list[Any] | None = None) -> str:
    """A field's type in words: `integer (at least 1, at most 100)`, `list of objects`, `one of a, b`."""
    kinds = []
    for member in _members(annotation):
        member, inner_metadata = _strip(member)
        limits = _limits([*inner_metadata, *(metadata or [])])
        origin = get_origin(member)
        if origin is Literal:
            kind = "one of " + ", ".join(str(value) for value in get_args(member))
        elif isinstance(member, type) and issubclass(member, Enum):
            kind = "one of " + ", ".join(str(item.value) for item in member)
        elif origin is tuple:
            items = _type(get_args(member)[0])
            kind = f"list, each {items}" if items.startswith("one of") else "list of " + _plural(items)
        elif origin is dict:
            kind = "map of strings to strings"
        elif isinstance(member, type) and issubclass(member, BaseModel):
            kind = "object"
        elif member is SecretStr:
            kind = "string (secret)"
        else:
            kind = {str: "string", int: "integer", float: "number", bool: "boolean"}[member]
        kinds.append(f"{kind} ({limits})" if limits else kind)
    return " or ".join(kinds)


def _plural(kind: str) -> str:
    word, _, rest = kind.partition(" ")
    plural = {"object": "objects", "string": "strings", "integer": "integers", "number": "numbers"}
    return f"{plural.get(word, word)} {rest}".strip() if word in plural else kind


def _default(field: FieldInfo) -> str:
    """The model's default, as a stack file would write it (markdown)."""
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "not set"
    if isinstance(value, BaseModel):
        return "each key's default"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple):
        value = list(value)
    return markdown.code(
        json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value, cell=True
    )


def _key(name: str, field: FieldInfo) -> str:
    return field.alias or name


def _sections() -> Iterator[tuple[str, type[BaseModel]]]:
    """Each object of the config with its path, top level first, then in the order the keys come."""
    queue: list[tuple[str, type[BaseModel]]] = [("", MigrationConfig)]
    while queue:
        path, model = queue.pop(0)
        yield path, model
        children = []
        for name, field in model.model_fields.items():
            inner = _model_of(field.annotation)
            if inner is not None:
                key = _key(name, field) + ("[]" if _is_list(field.annotation) else "")
                children.append((f"{path}.{key}" if path else key, inner))
        queue[0:0] = children  # depth first: a section's objects follow it


def _description(field: FieldInfo) -> str:
    if not field.description:
        raise ValueError("every config field needs a description")
    return field.description


def reference_markdown() -> str:
    """docs/configuration.md, from the model."""
    lines = [_header(), "", "# Configuration reference", "", _INTRO.format(project=PROJECT)]
    for path, model in _sections():
        lines += ["", f"## {markdown.code(path)}" if path else "## Top-level keys", ""]
        lines += ["| key | type | default | description |", "| --- | --- | --- | --- |"]
        for name, field in model.model_fields.items():
            cells = (
                markdown.code(_key(name, field), cell=True),
                markdown.text(_type(field.annotation, field.metadata)),
                _default(field),
                markdown.text(_description(field)),
            )
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def pulumi_descriptions() -> dict[str, str]:
    """The `description` of each top-level key in Pulumi.yaml: the field's, then the keys it holds."""
    descriptions = {}
    for name, field in MigrationConfig.model_fields.items():
        text = _description(field)
        text = text[0].upper() + text[1:] + "."
        inner = _model_of(field.annotation)
        if inner is not None:
            keys = ", ".join(_key(n, f) for n, f in inner.model_fields.items())
            text += f" Keys: {keys}."
        descriptions[_key(name, field)] = f"{text} Reference: {REFERENCE.as_posix()}."
    return descriptions


_TOP_KEY = re.compile(r"^  ([A-Za-z][A-Za-z0-9]*):\s*$")
_DESCRIPTION = re.compile(r"^    description:")


def updated_project_file(text: str) -> str:
    """Pulumi.yaml with each config key's description replaced by the generated one; every other line
    (types, defaults, comments) as it was."""
    descriptions = pulumi_descriptions()
    lines, key, in_config, written = [], None, False, set()
    for line in text.split("\n"):
        if line and not line.startswith((" ", "#")):
            in_config, key = line.rstrip() == "config:", None
        elif in_config and (match := _TOP_KEY.match(line)):
            key = match.group(1)
        elif in_config and key is not None and _DESCRIPTION.match(line):
            if key not in descriptions:
                raise ValueError(f"Pulumi.yaml declares config key {key!r}, which the model does not have")
            line = f"    description: {json.dumps(descriptions[key], ensure_ascii=False)}"
            written.add(key)
        lines.append(line)
    missing = [key for key in descriptions if key not in written]
    if missing:
        raise ValueError(f"Pulumi.yaml has no description line for config key(s) {', '.join(missing)}")
    return "\n".join(lines)


def outdated(root: Path | None = None) -> dict[Path, str]:
    """The generated files whose content differs from what the model gives, with that content."""
    root = root or ROOT
    wanted = {
        REFERENCE: reference_markdown(),
        PROJECT_FILE: updated_project_file((root / PROJECT_FILE).read_text()),
    }
    return {
        path: text
        for path, text in wanted.items()
        if not (root / path).exists() or (root / path).read_text() != text
    }


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        for path, text in outdated().items():
            (ROOT / path).write_text(text)
            print(f"wrote {path}")
        return 0
    if argv == ["--check"]:
        stale = outdated()
        for path in stale:
            print(f"{path} is out of date with components/core/config.py; run {COMMAND}", file=sys.stderr)
        return 1 if stale else 0
    if not argv:
        sys.stdout.write(reference_markdown())
        return 0
    print("usage: python -m migrate.config_reference [--write | --check]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
