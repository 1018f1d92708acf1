"""What the Pulumi engine and providers do on import, simulated from their source, for tests that mocks
cannot answer (mocks never read a live resource back).

- pulumi/pulumi pkg/resource/deploy/step_generator.go continueStepsFromImport: after an import the
  program's inputs go through processIgnoreChanges against the imported inputs, then Diff; a non-empty
  diff becomes an update (CLI >= 3.174, pulumi/pulumi#19339).
- sdk/go/common/resource/properties_path.go reset: a top-level "*" copies every old input and drops
  every program input the old ones lack; a plain path copies (or removes) that one key.
- pulumi-azure-native provider.go Read / ResponseToSdkInputs: every writable property of the GET
  response becomes an input, plus the ARM path parameters; read-only ones are dropped.
- pulumi-kubernetes provider.go readFromCluster: every top-level field of the live object, less
  metadata.{creationTimestamp,generation,managedFields,resourceVersion,uid}, status, and the revision
  and last-applied annotations.
- pulumi-kubernetes await.go Creation/Update/Read + overrides.go ReadyCondition: which await follows an
  apply (awaited_condition); jsonpath.go Parse/Matches over theory/jsonpath v0.9.0 (jsonpath_parse,
  jsonpath_matches); deployment.go's success test (deployment_ready). Notes: notes/engine-research.md."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from pulumi import _types as pulumi_types
from pulumi_azure_native import containerservice

_MISSING = object()


def process_ignore_changes(inputs: dict[str, Any], old: dict[str, Any], ignore: list[str]) -> dict[str, Any]:
    result = copy.deepcopy(inputs)
    for path in ignore:
        if path == "*":
            result = copy.deepcopy(old)
            continue
        keys = path.split(".")
        source: Any = old
        for key in keys:
            source = source.get(key, _MISSING) if isinstance(source, dict) else _MISSING
        target = result
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if source is _MISSING:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = copy.deepcopy(source)
    return result


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    """Top-level keys an update would send: added, removed or different."""
    return {key for key in old.keys() | new.keys() if old.get(key, _MISSING) != new.get(key, _MISSING)}


def update_after_import(program: dict[str, Any], imported: dict[str, Any], ignore: list[str]) -> set[str]:
    return changed_keys(imported, process_ignore_changes(program, imported, ignore))


def _agent_pool_input_names() -> dict[str, str]:
    """Lower-cased name -> the SDK's (and ARM's) property name, for every writable AgentPool input."""
    names = {}
    for _, pulumi_name, _ in pulumi_types._py_properties(containerservice.AgentPoolArgs):  # type: ignore[attr-defined]
        names[pulumi_name.lower()] = pulumi_name
    return names


def azure_agent_pool_read(az_show: dict[str, Any], cluster: str) -> dict[str, Any]:
    """The inputs azure-native reads back for an imported agent pool, from `az aks nodepool show -o json`
    (whose keys az camel-cases from its own model: osDiskSizeGb for ARM's osDiskSizeGB)."""
    writable = _agent_pool_input_names()
    inputs: dict[str, Any] = {
        "resourceGroupName": az_show["resourceGroup"],
        "resourceName": cluster,
        "agentPoolName": az_show["name"],
    }
    for key, value in az_show.items():
        name = writable.get(key.lower())
        if name and value is not None and name not in inputs:
            inputs[name] = value
    return inputs


_SERVER_METADATA = ("creationTimestamp", "generation", "managedFields", "resourceVersion", "uid")
_SERVER_ANNOTATIONS = (
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
)


def kubernetes_read(live: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(live)
    obj.pop("status", None)
    metadata = obj.get("metadata") or {}
    for key in _SERVER_METADATA:
        metadata.pop(key, None)
    annotations = metadata.get("annotations") or {}
    for key in _SERVER_ANNOTATIONS:
        annotations.pop(key, None)
    if "annotations" in metadata and not annotations:
        metadata.pop("annotations")
    return obj


def provider_deletes(removed: dict[str, Any], deleted_in_same_update: set[str]) -> set[str]:
    """Which removed resources the engine asks their provider to delete (pulumi/pulumi step.go
    DeleteStep.Apply): none that is retainOnDelete, none whose deletedWith target goes in the same
    update. For a patch resource that provider call is ssa.Relinquish (pulumi-kubernetes await.go)."""
    return {
        name
        for name, spec in removed.items()
        if not spec.retain_on_delete and spec.deleted_with not in deleted_in_same_update
    }


# pulumi-kubernetes provider/pkg/await/await.go patchForce: the managers that mark Pulumi's own old
# client-side applies, which a preview forces over.
_PULUMI_CSA_MANAGERS = ("pulumi-resource-kubernetes", "pulumi-kubernetes", "pulumi-kubernetes.exe")


def patch_force(inputs: dict[str, Any], live: dict[str, Any] | None, preview: bool) -> bool:
    """Whether pulumi-kubernetes applies with force (await.go patchForce, provider enablePatchForce off):
    the `pulumi.com/patchForce: "true"` annotation; in preview, no live object or a field manager of
    Pulumi's old client-side applies; a live object without managedFields."""
    annotations = (inputs.get("metadata") or {}).get("annotations") or {}
    if annotations.get("pulumi.com/patchForce") == "true":
        return True
    managed = ((live or {}).get("metadata") or {}).get("managedFields") or []
    if preview and (
        live is None
        or any(m.get("operation") == "Update" and m.get("manager") in _PULUMI_CSA_MANAGERS for m in managed)
    ):
        return True
    return live is not None and not managed


def apply_conflicts(live: dict[str, Any], fields: dict[str, Any], section: str = "spec") -> dict[str, str]:
    """Field -> the other manager that owns it, for each of `fields` (under `section`) whose value the
    apply changes: server-side apply refuses such an apply unless forced (Kubernetes server-side apply,
    "Conflicts"). Owners are read from the live object's managedFields (fieldsV1 `f:<name>` keys)."""
    conflicts = {}
    current = live.get(section) or {}
    for field, value in fields.items():
        if current.get(field) == value:
            continue
        for entry in (live.get("metadata") or {}).get("managedFields") or []:
            owned = ((entry.get("fieldsV1") or {}).get(f"f:{section}") or {}).get(f"f:{field}")
            if owned is not None:
                conflicts[field] = entry["manager"]
    return conflicts


# ---------------------------------------------------------------------------------------------------------
# pulumi-kubernetes awaits (read at pulumi/pulumi-kubernetes 94977969d, 2026-07-01, the newest commit the
# mirror has: 4.32.0 plus unreleased changes; no v4.34.2 tag was available, see notes/engine-research.md).
# ---------------------------------------------------------------------------------------------------------

# provider/pkg/await/awaiters.go `awaiters`: "apiVersion/Kind" -> (has `await`, has `awaitRead`). A key
# with neither is a known kind without await logic (autoscaling/v1 HPA, ConfigMap, RBAC, ...); a kind
# missing from the map (Namespace, autoscaling/v2 HPA, every custom resource) has none either.
_AWAITERS: dict[str, tuple[bool, bool]] = {
    **{f"{gv}/DaemonSet": (True, True) for gv in ("apps/v1", "apps/v1beta1", "apps/v1beta2")},
    **{f"{gv}/Deployment": (True, True) for gv in ("apps/v1", "apps/v1beta1", "apps/v1beta2")},
    **{f"{gv}/StatefulSet": (True, True) for gv in ("apps/v1", "apps/v1beta1", "apps/v1beta2")},
    "extensions/v1beta1/DaemonSet": (True, True),
    "extensions/v1beta1/Deployment": (True, True),
    "extensions/v1beta1/Ingress": (True, True),
    "networking.k8s.io/v1beta1/Ingress": (True, True),
    "networking.k8s.io/v1/Ingress": (True, True),
    "batch/v1/Job": (True, True),
    "v1/Pod": (True, True),
    "v1/Service": (True, True),
    "v1/PersistentVolume": (True, False),
    "v1/PersistentVolumeClaim": (True, False),
    "v1/ReplicationController": (True, False),
    "v1/ResourceQuota": (True, False),
    "v1/Secret": (True, False),
    "v1/ServiceAccount": (True, False),
    "autoscaling/v1/HorizontalPodAutoscaler": (False, False),
    "v1/ConfigMap": (False, False),
    "v1/LimitRange": (False, False),
    "storage.k8s.io/v1/StorageClass": (False, False),
}


def service_waits_for_pods(service: Mapping[str, Any]) -> bool:
    """provider/pkg/await/service.go shouldWaitForPods (396-409): a Service's awaiter waits for ready
    endpoints of selected pods unless it is ExternalName, headless (clusterIP None) or has no selector,
    when the Service object alone makes it ready."""
    spec = service.get("spec") or {}
    external = spec.get("type") == "ExternalName"
    headless = spec.get("clusterIP") == "None"
    return not (external or headless or not spec.get("selector"))


# The apiVersion a bare kind is served at today, for callers that name only the kind.
_SERVED_AT = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "ReplicaSet": "apps/v1",
    "Job": "batch/v1",
    "Ingress": "networking.k8s.io/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    **{kind: "v1" for kind in ("Pod", "Service", "Namespace", "ConfigMap", "Secret", "ServiceAccount")},
    **{kind: "v1" for kind in ("PersistentVolume", "PersistentVolumeClaim", "ResourceQuota", "LimitRange")},
}

SKIP_AWAIT = "pulumi.com/skipAwait"
WAIT_FOR = "pulumi.com/waitFor"
TIMEOUT_SECONDS = "pulumi.com/timeoutSeconds"


@dataclass(frozen=True)
class Awaited:
    """What the provider waits for after an operation. `by` is one of:
    "skipAwait" (returns at once), "waitFor" (the `wait_for` conditions, all of them), "awaiter" (the
    built-in awaiter of `awaiter`, the live kind), "ready" (PULUMI_K8S_AWAIT_ALL's generic Ready
    condition) or "nothing". `timeout_seconds` bounds create/update awaits; a read is one look."""

    by: str
    awaiter: str = ""
    wait_for: tuple[str, ...] = ()
    timeout_seconds: int | None = None


def _gvk(live_kind: str) -> str:
    if "/" in live_kind:
        return live_kind
    return f"{_SERVED_AT.get(live_kind, 'example.com/v1')}/{live_kind}"


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def wait_for_values(raw: str) -> tuple[str, ...]:
    """provider/pkg/metadata/overrides.go ReadyCondition: the annotation is a JSON array of strings, or
    else one expression; each must start with `jsonpath=` (parsed here, so a bad one fails the operation
    after the object was applied) or `condition=`."""
    try:
        values = json.loads(raw)
    except ValueError:
        values = [raw]
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        values = [raw]
    if not values:
        raise ValueError("at least one condition must be specified")
    for value in values:
        if value.startswith("jsonpath="):
            jsonpath_parse(value)
        elif not value.startswith("condition="):
            raise ValueError(f'expected a "jsonpath=" or "condition=" prefix, got {value!r}')
    return tuple(values)


def awaited_condition(
    inputs: Mapping[str, Any],
    live_kind: str,
    operation: str,
    live_annotations: Mapping[str, Any] | None = None,
    await_all: bool = False,
) -> Awaited:
    """What pulumi-kubernetes waits for after applying `inputs` (a resource's or a *Patch's) to an
    object of `live_kind` ("Deployment" or "apps/v1/Deployment").

    - create/update (provider/pkg/await/await.go Creation 321-347, Update 504-531): `pulumi.com/skipAwait`
      is read from the INPUTS (metadata.SkipAwaitLogic(inputs)); `pulumi.com/waitFor` from the OBJECT THE
      APPLY RETURNED (GetAnnotationValue(obj, ...)), i.e. the live annotations after the apply, which is
      `live_annotations` (what other managers put there, another patch's waitFor included) with the
      inputs' own annotations applied over them. A waitFor replaces the built-in awaiter (`custom`).
      Otherwise the awaiter is looked up by the applied object's apiVersion/kind, so a DeploymentPatch
      gets the whole Deployment's awaiter. Timeout: `pulumi.com/timeoutSeconds` from the inputs, else 600
      (customTimeouts, which take precedence, are not modelled).
    - read (refresh; await.go Read 400-427): only `awaitRead` of the live kind, skipped when the STORED
      INPUTS (the adopted resource's imported inputs) say skipAwait; waitFor plays no part.
    - import (Read with no inputs, readFromCluster): nothing."""
    gvk = _gvk(live_kind)
    kind = gvk.rsplit("/", 1)[1]
    has_await, has_read = _AWAITERS.get(gvk, (False, False))
    skip = _annotations(inputs).get(SKIP_AWAIT) == "true"
    if operation == "import":
        return Awaited("nothing")
    if operation == "read":
        if gvk in _AWAITERS and skip:
            return Awaited("skipAwait")
        return Awaited("awaiter", awaiter=kind) if has_read else Awaited("nothing")
    if operation not in ("create", "update"):
        raise ValueError(f"operation must be create, update, read or import, got {operation!r}")
    timeout = _annotations(inputs).get(TIMEOUT_SECONDS)
    seconds = int(timeout) if isinstance(timeout, str) and re.fullmatch(r"[+-]?\d+", timeout) else 600
    if skip:
        return Awaited("skipAwait")
    after_apply = {**(live_annotations or {}), **_annotations(inputs)}
    raw = after_apply.get(WAIT_FOR) or ""
    if raw:
        return Awaited("waitFor", wait_for=wait_for_values(raw), timeout_seconds=seconds)
    if has_await:
        return Awaited("awaiter", awaiter=kind, timeout_seconds=seconds)
    if await_all:
        return Awaited("ready", timeout_seconds=seconds)
    return Awaited("nothing")


# ---------------------------------------------------------------------------------------------------------
# pulumi.com/waitFor JSONPath: provider/pkg/jsonpath/jsonpath.go Parse/Matches over github.com/theory/jsonpath
# v0.9.0 (provider/go.mod at the mirror's 94977969d; 4.34.2's go.mod was not seen), read at theory/jsonpath
# tag v0.9.0 (8db3053): parser/lex.go, parser/parse.go, spec/op.go, spec/function.go (SingularQueryExpr),
# spec/selector.go (FilterSelector), spec/filter.go.
# ---------------------------------------------------------------------------------------------------------


class JSONPathError(ValueError):
    """An expression or match the provider rejects (the operation fails)."""


class NondeterministicMatch(JSONPathError):
    """Matches compares only the FIRST result; where results came from iterating an object's members (a
    wildcard or a filter over a map), Go's random map order picks it, so the outcome varies by run."""


@dataclass(frozen=True)
class ParsedJSONPath:
    path: str  # the user's `{...}` part, for display
    value: str  # the expected value after `=`, or ""
    query: tuple[Any, ...]  # (root, segments) of the library's PathQuery


@dataclass(frozen=True)
class JSONPathMatch:
    matched: bool
    found: str = ""
    message: str = ""


_EOF = "<eof>"
_BLANKS = " \t\n\r"
_NOTHING = object()  # RFC 9535 "Nothing": a singular query that selected no node


def _ident_rune(char: str, index: int) -> bool:
    """parser/lex.go isIdentRune."""
    if char == _EOF:
        return False
    if index == 0 and char.isdigit():
        return False
    code = ord(char)
    return (
        ("a" <= char <= "z")
        or ("A" <= char <= "Z")
        or char == "_"
        or ("0" <= char <= "9")
        or 0x80 <= code <= 0xD7FF
        or 0xE000 <= code <= 0x10FFFF
    )


class _Lexer:
    """parser/lex.go lexer: `r` is the current rune, tokens are (kind, value, position)."""

    _ESCAPES: ClassVar[dict[str, str]] = {
        "b": "\b",
        "f": "\f",
        "n": "\n",
        "r": "\r",
        "t": "\t",
        "/": "/",
        "\\": "\\",
    }

    def __init__(self, buf: str) -> None:
        self.buf = buf
        self.pos = -1
        self.r = ""
        self.next()

    def next(self) -> str:
        self.pos += 1
        self.r = self.buf[self.pos] if self.pos < len(self.buf) else _EOF
        return self.r

    def peek(self) -> str:
        return self.buf[self.pos + 1] if self.pos + 1 < len(self.buf) else _EOF

    def scan(self) -> tuple[str, Any, int]:
        start, r = self.pos, self.r
        if r == _EOF:
            return ("eof", "", start)
        if r == "$":
            if _ident_rune(self.peek(), 0):
                return self._identifier()
            self.next()
            return ("$", "", start)
        if _ident_rune(r, 0):
            return self._identifier()
        if r.isdigit() or r == "-":
            return self._number()
        if r in "\"'":
            return self._string()
        if r in _BLANKS:
            return self.scan_blank()
        self.next()
        return (r, "", start)

    def scan_blank(self) -> tuple[str, Any, int]:
        start = self.pos
        while self.r in _BLANKS and self.r != _EOF:
            self.next()
        return ("blank", self.buf[start : self.pos], start)

    def skip_blank(self) -> str:
        if self.r in _BLANKS and self.r != _EOF:
            self.scan()
        return self.r

    def peek_past_blank(self) -> str:
        index = self.pos + 1
        while index < len(self.buf):
            if self.buf[index] not in _BLANKS:
                return self.buf[index]
            index += 1
        return _EOF

    def _identifier(self) -> tuple[str, Any, int]:
        start = self.pos
        while _ident_rune(self.r, 1):
            self.next()
        value = self.buf[start : self.pos]
        kind = {"true": "true", "false": "false", "null": "null"}.get(value, "identifier")
        return (kind, value, start)

    def _invalid(self, position: int, message: str) -> tuple[str, Any, int]:
        self.r = _EOF
        self.pos = len(self.buf)
        return ("invalid", message, position)

    def _number(self) -> tuple[str, Any, int]:
        """parser/lex.go scanNumber: no leading zeros, optional fraction and exponent."""
        start = self.pos
        if self.r == "0":
            following = self.next()
            if following not in ".eE":
                if following.isdigit():
                    return self._invalid(start, "invalid number literal")
                return ("integer", "0", start)
        else:
            if self.r == "-":
                following = self.next()
                if following == "0" and self.peek().isdigit():
                    return self._invalid(start, "invalid number literal")
                if not following.isdigit():
                    return self._invalid(start, "invalid number literal")
            while self.r.isdigit():
                self.next()
        if self.r == ".":
            if not self.next().isdigit():
                return self._invalid(start, "invalid number literal")
            while self.r.isdigit():
                self.next()
        if self.r in ("e", "E"):
            sign = self.next()
            if sign in "+-" and sign != _EOF:
                self.next()
            if not self.r.isdigit():
                return self._invalid(start, "invalid number literal")
            while self.r.isdigit():
                self.next()
            return ("number", self.buf[start : self.pos], start)
        text = self.buf[start : self.pos]
        return ("number" if "." in text else "integer", text, start)

    def _string(self) -> tuple[str, Any, int]:
        """parser/lex.go scanString: single- or double-quoted, JSON escapes plus \\' in '...'."""
        start, quote = self.pos, self.r
        out = []
        self.next()
        while self.r != _EOF and self.r != quote:
            if self.r == "\\":
                escaped = self.next()
                if escaped in self._ESCAPES or escaped == quote:
                    out.append(self._ESCAPES.get(escaped, escaped))
                    self.next()
                elif escaped == "u" and re.fullmatch(
                    r"[0-9a-fA-F]{4}", hexa := self.buf[self.pos + 1 : self.pos + 5]
                ):
                    out.append(chr(int(hexa, 16)))
                    self.pos += 4
                    self.next()
                else:
                    return self._invalid(self.pos, "invalid escape after backslash")
            elif ord(self.r) < 0x20:
                break
            else:
                out.append(self.r)
                self.next()
        if self.r != quote:
            return self._invalid(self.pos, "unterminated string literal")
        self.next()
        return ("string", "".join(out), start)


def _token_name(token: tuple[str, Any, int]) -> str:
    kind = token[0]
    if kind in ("eof", "identifier", "integer", "number", "string", "invalid"):
        return kind
    if kind == "blank":
        return "blank space"
    return "'" + kind + "'" if len(kind) == 1 else kind


def _unexpected(token: tuple[str, Any, int]) -> JSONPathError:
    """parser/parse.go unexpected/makeError: `jsonpath: <msg> at position <pos+1>`."""
    message = token[1] if token[0] == "invalid" else "unexpected " + _token_name(token)
    return JSONPathError(f"jsonpath: {message} at position {token[2] + 1}")


class _Parser:
    """parser/parse.go, for the selectors and filter expressions the project writes. Function extensions
    (length(), count(), match(), search(), value()), slices and descendant segments are accepted by the
    real library but not modelled: they raise NotImplementedError."""

    def __init__(self, text: str) -> None:
        self.lex = _Lexer(text)

    def parse(self) -> tuple[Any, ...]:
        token = self.lex.scan()
        if token[0] == "eof":
            raise JSONPathError("jsonpath: unexpected end of input")
        if token[0] != "$":
            raise _unexpected(token)
        query = self.query(root=True)
        if self.lex.r != _EOF:
            raise _unexpected(self.lex.scan())
        return query

    def query(self, root: bool) -> tuple[Any, ...]:
        lex, segments = self.lex, []
        while True:
            if lex.r == "[":
                lex.scan()
                segments.append(self.selectors())
            elif lex.r == ".":
                lex.scan()
                if lex.r == ".":
                    raise NotImplementedError("descendant segments (..) are not modelled")
                token = lex.scan()
                if token[0] == "identifier":
                    segments.append((("name", token[1]),))
                elif token[0] == "*":
                    segments.append((("wildcard",),))
                else:
                    raise _unexpected(token)
            elif lex.r in _BLANKS and lex.r != _EOF and lex.peek_past_blank() in (".", "["):
                lex.scan_blank()
            else:
                return (root, tuple(segments))

    def selectors(self) -> tuple[Any, ...]:
        lex, selectors = self.lex, []
        while True:
            token = lex.scan()
            if token[0] == "blank":
                continue
            if token[0] == "?":
                selectors.append(("filter", self.logical_or()))
            elif token[0] == "*":
                selectors.append(("wildcard",))
            elif token[0] == "string":
                selectors.append(("name", token[1]))
            elif token[0] == "integer":
                if lex.skip_blank() == ":":
                    raise NotImplementedError("slices are not modelled")
                selectors.append(("index", int(token[1])))
            elif token[0] == ":":
                raise NotImplementedError("slices are not modelled")
            else:
                raise _unexpected(token)
            following = lex.skip_blank()
            if following == ",":
                lex.scan()
            elif following == "]":
                lex.scan()
                return tuple(selectors)
            else:
                raise _unexpected(lex.scan())

    def logical_or(self) -> tuple[Any, ...]:
        lex = self.lex
        ands = [self.logical_and()]
        lex.scan_blank()
        while lex.r == "|":
            lex.scan()
            token = lex.scan()
            if token[0] != "|":
                raise JSONPathError(f"jsonpath: expected '|' but found {_token_name(token)}")
            ands.append(self.logical_and())
        return tuple(ands)

    def logical_and(self) -> tuple[Any, ...]:
        """v0.9.0 skips blank space only after the FIRST operand: in `a && b && c` the blank before the
        second `&&` ends the and-expression and the filter then fails on '&' (fixed in v0.10.2, #24)."""
        lex = self.lex
        exprs = [self.basic()]
        lex.scan_blank()
        while lex.r == "&":
            lex.scan()
            token = lex.scan()
            if token[0] != "&":
                raise JSONPathError(f"jsonpath: expected '&' but found {_token_name(token)}")
            exprs.append(self.basic())
        return tuple(exprs)

    def basic(self) -> tuple[Any, ...]:
        lex = self.lex
        lex.skip_blank()
        token = lex.scan()
        kind = token[0]
        if kind == "!":
            if lex.skip_blank() == "(":
                lex.scan()
                return ("notparen", self.inner_paren())
            following = lex.scan()
            if following[0] == "identifier":
                raise NotImplementedError("function extensions are not modelled")
            return ("nonexist", self.query(root=following[0] == "$"))
        if kind == "(":
            return ("paren", self.inner_paren())
        if kind in ("string", "integer", "number", "true", "false", "null"):
            return self.comparison(_literal(token))
        if kind == "identifier" and lex.r == "(":
            raise NotImplementedError("function extensions are not modelled")
        if kind in ("@", "$"):
            query = self.query(root=kind == "$")
            if _singular(query) and lex.skip_blank() in ("=", "!", "<", ">"):
                return self.comparison(("query", query))
            return ("exist", query)
        raise _unexpected(token)

    def inner_paren(self) -> tuple[Any, ...]:
        expr = self.logical_or()
        token = self.lex.scan()
        if token[0] != ")":
            raise JSONPathError(
                f"jsonpath: expected ')' but found {_token_name(token)} at position {token[2] + 1}"
            )
        return expr

    def comparison(self, left: tuple[Any, ...]) -> tuple[Any, ...]:
        lex = self.lex
        lex.skip_blank()
        token = lex.scan()
        op = ""
        if token[0] in ("=", "!") and lex.r == "=":
            lex.scan()
            op = token[0] + "="
        elif token[0] in ("<", ">"):
            op = token[0]
            if lex.r == "=":
                lex.scan()
                op += "="
        if not op:
            raise JSONPathError(f"jsonpath: invalid comparison operator at position {token[2] + 1}")
        lex.skip_blank()
        right = lex.scan()
        if right[0] in ("string", "integer", "number", "true", "false", "null"):
            value = _literal(right)
        elif right[0] in ("@", "$"):
            value = ("query", self.singular_query(root=right[0] == "$"))
        elif right[0] == "identifier" and lex.r == "(":
            raise NotImplementedError("function extensions are not modelled")
        else:
            raise _unexpected(right)
        return ("cmp", left, op, value)

    def singular_query(self, root: bool) -> tuple[Any, ...]:
        """parser/parse.go parseSingularQuery: `.name`, `['name']` or `[index]` only."""
        lex, segments = self.lex, []
        while True:
            if lex.r == "[":
                lex.skip_blank()
                lex.scan()
                token = lex.scan()
                if token[0] == "string":
                    segments.append((("name", token[1]),))
                elif token[0] == "integer":
                    segments.append((("index", int(token[1])),))
                else:
                    raise _unexpected(token)
                lex.skip_blank()
                closing = lex.scan()
                if closing[0] != "]":
                    raise _unexpected(closing)
            elif lex.r == ".":
                lex.scan()
                token = lex.scan()
                if token[0] != "identifier":
                    raise _unexpected(token)
                segments.append((("name", token[1]),))
            else:
                return (root, tuple(segments))


def _literal(token: tuple[str, Any, int]) -> tuple[Any, ...]:
    kind, text = token[0], token[1]
    value: Any = {
        "string": text,
        "true": True,
        "false": False,
        "null": None,
    }.get(kind, text)
    if kind == "integer":
        value = int(text)
    elif kind == "number":
        value = float(text)
    return ("literal", value)


def _singular(query: tuple[Any, ...]) -> bool:
    """spec PathQuery.isSingular: every segment a child segment with one name or index selector."""
    return all(len(segment) == 1 and segment[0][0] in ("name", "index") for segment in query[1])


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    if _number(value):
        return "number"
    return {bool: "bool", str: "string", dict: "object", list: "array"}.get(type(value), "null")


def _deep_equal(left: Any, right: Any) -> bool:
    """reflect.DeepEqual on decoded JSON: an int64 and a float64 are different types (k8s unstructured
    decodes integers as int64), so only the top-level numeric comparison converts to float."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(_deep_equal(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_deep_equal, left, right))
    return bool(left == right)


def _equal(left: Any, right: Any) -> bool:
    """spec/op.go equalTo/valueEqualTo: Nothing equals only Nothing; numbers compare as float64."""
    if left is _NOTHING or right is _NOTHING:
        return left is right
    if _number(left):
        return _number(right) and float(left) == float(right)
    return _deep_equal(left, right)


def _less(left: Any, right: Any) -> bool:
    """spec/op.go lessThan/valueLessThan: numbers, or strings; anything else is not less."""
    if left is _NOTHING or right is _NOTHING:
        return False
    if _number(left):
        return _number(right) and float(left) < float(right)
    return isinstance(left, str) and isinstance(right, str) and left < right


def _same_type(left: Any, right: Any) -> bool:
    """spec/op.go sameType/valCompType: both present and both numbers or of one JSON type."""
    if left is _NOTHING or right is _NOTHING:
        return False
    return _json_type(left) == _json_type(right)


def _compare(left: Any, op: str, right: Any) -> bool:
    """spec/op.go CompExpr.testFilter. Unlike RFC 9535, `>`/`>=` hold for two distinct objects, arrays
    or booleans of one type (`!lessThan && !equalTo`), since lessThan is false for them."""
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    if op == "<":
        return _same_type(left, right) and _less(left, right)
    if op == ">":
        return _same_type(left, right) and not _less(left, right) and not _equal(left, right)
    if op == "<=":
        return _same_type(left, right) and (_less(left, right) or _equal(left, right))
    return _same_type(left, right) and not _less(left, right)


def _children(node: Any, selector: tuple[Any, ...], root: Any) -> tuple[list[Any], bool]:
    """spec/selector.go Select for one selector; the flag says the order came from a Go map."""
    kind = selector[0]
    if kind == "name":
        return ([node[selector[1]]] if isinstance(node, dict) and selector[1] in node else []), False
    if kind == "index":
        if not isinstance(node, list):
            return [], False
        index = selector[1] + len(node) if selector[1] < 0 else selector[1]
        return ([node[index]] if 0 <= index < len(node) else []), False
    members = list(node.values()) if isinstance(node, dict) else node if isinstance(node, list) else []
    if kind == "filter":
        members = [member for member in members if _test(selector[1], member, root)]
    return members, isinstance(node, dict) and len(members) > 1


def _select(query: tuple[Any, ...], current: Any, root: Any) -> tuple[list[Any], bool]:
    """spec/query.go PathQuery.Select: each segment maps every node through its selectors in order."""
    nodes, unordered = [root if query[0] else current], False
    for segment in query[1]:
        selected: list[Any] = []
        for node in nodes:
            for selector in segment:
                children, from_map = _children(node, selector, root)
                selected += children
                unordered = unordered or from_map
        nodes = selected
    return nodes, unordered


def _value(operand: tuple[Any, ...], current: Any, root: Any) -> Any:
    """spec/function.go LiteralArg.asValue / SingularQueryExpr.evaluate (Nothing when nothing selected)."""
    if operand[0] == "literal":
        return operand[1]
    nodes, _ = _select(operand[1], current, root)
    return nodes[0] if nodes else _NOTHING


def _test(expr: tuple[Any, ...], current: Any, root: Any) -> bool:
    """spec/filter.go: a logical-or of logical-ands of basic expressions."""
    return any(all(_basic(basic, current, root) for basic in conjunction) for conjunction in expr)


def _basic(basic: tuple[Any, ...], current: Any, root: Any) -> bool:
    kind = basic[0]
    if kind == "cmp":
        return _compare(_value(basic[1], current, root), basic[2], _value(basic[3], current, root))
    if kind == "exist":
        return bool(_select(basic[1], current, root)[0])
    if kind == "nonexist":
        return not _select(basic[1], current, root)[0]
    if kind == "paren":
        return _test(basic[1], current, root)
    return not _test(basic[1], current, root)


def jsonpath_select(expression: str, obj: Any) -> list[Any]:
    """theory/jsonpath Parse + Select of an RFC 9535 query (starting with `$`) on a decoded object."""
    return _select(_Parser(expression).parse(), obj, obj)[0]


_BRACKETS = re.compile(r"\{\s*(.*?)\s*\}", re.DOTALL)


def _split_on_value(raw: str) -> list[str]:
    """jsonpath.go splitOnValue (4.34): split only at a `=` outside the braces; quotes count only inside
    them, where a backslash escapes the next character."""
    parts: list[str] = []
    element: list[str] = []
    depth, quote, index = 0, "", 0
    while index < len(raw):
        char = raw[index]
        if quote:
            if char == "\\" and index < len(raw) - 1:
                element.append(char)
                index += 1
                char = raw[index]
            elif char == quote:
                quote = ""
        elif depth > 0 and char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth = max(depth - 1, 0)
        elif char == "=" and depth == 0:
            parts.append("".join(element))
            element = []
            index += 1
            continue
        element.append(char)
        index += 1
    return [*parts, "".join(element)]


def _unbracket(path: str) -> str | None:
    """jsonpath.go unbracket (4.34): the first balanced `{...}`, braces in quoted strings ignored."""
    start = path.find("{")
    if start < 0:
        return None
    depth, quote, index = 0, "", start
    while index < len(path):
        char = path[index]
        if quote:
            if char == "\\" and index < len(path) - 1:
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return path[start + 1 : index].strip()
        index += 1
    return None


def jsonpath_parse(expr: str, split_at_every_equals: bool = False) -> ParsedJSONPath:
    """provider/pkg/jsonpath/jsonpath.go Parse, as released in 4.34.x (pulumi/pulumi-kubernetes#4524,
    merged 2026-07-31, "the waitFor JSONPath filter fix" of 4.34.0): strip `jsonpath=`; split path and
    value only at a `=` outside the braces (so `>=`, `<=`, `!=` work inside them); reject a value that is
    itself `{...}`; take the first balanced `{...}` (text around it is ignored: `{.a}>=3` is path `{.a}>`
    and value "3"); prefix `$` when missing; theory/jsonpath parses the rest.
    `split_at_every_equals` models 4.32/4.33 (mirror 94977969d, lines 66-112): `==` protected, every other
    `=` split, the first `{...}` found by a non-greedy regex, so `>=`, `<=` and `!=` inside the braces
    cannot be written."""
    if expr == "":
        raise JSONPathError("expected a non-empty JSONPath expression")
    if not expr.startswith("jsonpath="):
        raise JSONPathError("JSONPath expression must begin with a 'jsonpath=' prefix")
    raw = expr.removeprefix("jsonpath=")
    placeholder = "\ufffd"
    if split_at_every_equals:
        parts = [part.replace(placeholder, "==") for part in raw.replace("==", placeholder).split("=")]
    else:
        parts = _split_on_value(raw)
    path, value = parts[0], ""
    if len(parts) > 2:
        raise JSONPathError(f"format should be {{.path}}=value or {{.path}}, got {raw!r}")
    if len(parts) == 2:
        value = parts[1]
        if value == "":
            raise JSONPathError(f"{path}= requires a value")
    if path.startswith("'") and path.endswith("'"):
        raise JSONPathError(f"{path} should omit shell quotes")
    if split_at_every_equals:
        match = _BRACKETS.search(path)
        inner = match.group(1) if match else None
    else:
        if value.startswith("{"):
            raise JSONPathError(
                f"{path}={value} compares against another JSONPath, which is not supported; "
                "the value must be a literal"
            )
        inner = _unbracket(path)
    if inner is None:
        raise JSONPathError(f"{path} should be wrapped in brackets {{ ... }}")
    if not inner.startswith("$"):
        inner = "$" + inner
    try:
        query = _Parser(inner).parse()
    except JSONPathError as error:
        raise JSONPathError(f"parsing {path!r}: {error}") from error
    return ParsedJSONPath(path=path, value=value, query=query)


def _go_sprint(value: Any) -> str:
    """fmt.Sprint of a decoded JSON scalar."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "<nil>"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    return str(value)


def jsonpath_matches(parsed: ParsedJSONPath, obj: Mapping[str, Any]) -> JSONPathMatch:
    """condition/jsonpath.go Satisfied + jsonpath.go Matches (lines 33-52) on the observed object:
    - stale: metadata.generation and status.observedGeneration both integers and observed < generation
      -> not satisfied (an object without status.observedGeneration, e.g. an HTTPRoute, is never stale);
    - nothing selected -> not matched ("<path> selected nothing");
    - only the FIRST result counts: a list or map matches when no value is expected, and is an error
      when one is; a scalar matches when no value is expected, or when fmt.Sprint of it equals the value.
    Raises NondeterministicMatch where that first result depends on Go's map order."""
    generation = (obj.get("metadata") or {}).get("generation")
    observed = (obj.get("status") or {}).get("observedGeneration")
    integers = all(isinstance(n, int) and not isinstance(n, bool) for n in (generation, observed))
    if integers and observed < generation:
        return JSONPathMatch(False, message=f"stale: status.observedGeneration {observed} < {generation}")
    results, unordered = _select(parsed.query, obj, obj)
    if not results:
        return JSONPathMatch(False, message=f"{parsed.path} selected nothing")

    def one(value: Any) -> JSONPathMatch:
        if isinstance(value, dict | list):
            if not parsed.value:
                return JSONPathMatch(True)
            raise JSONPathError(f"{parsed.path!r} has a non-primitive value ({value})")
        found = _go_sprint(value)
        return JSONPathMatch(not parsed.value or parsed.value == found, found)

    if unordered and parsed.value:
        outcomes = set()
        for value in results:
            try:
                outcomes.add(one(value).matched)
            except JSONPathError:
                outcomes.add(None)
        if len(outcomes) > 1:
            raise NondeterministicMatch(f"{parsed.path}: the first of {len(results)} results is random")
    return one(results[0])


# ---------------------------------------------------------------------------------------------------------
# The Deployment awaiter (provider/pkg/await/deployment.go) on one live object.
# ---------------------------------------------------------------------------------------------------------

REVISION = "deployment.kubernetes.io/revision"


def deployment_ready(
    live: Mapping[str, Any], replica_set: Mapping[str, Any] | None = None, reading: bool = False
) -> bool:
    """deploymentInitAwaiter's success test for apps/v1 (checkAndLogStatus 418-442 after
    processDeploymentEvent 444-564 and checkReplicaSetStatus 593-715), on a snapshot:
    - create/update first wait until status.observedGeneration == metadata.generation
      (waitUntilDeploymentControllerReconciles 354-398); a refresh (`reading`, Read 216-303) does not;
    - the `deployment.kubernetes.io/revision` annotation is set and status.conditions exist;
    - Available is True; unless the revision is "1", Progressing is True with reason
      NewReplicaSetAvailable (the last condition of each type wins);
    - the ReplicaSet of that revision has status.readyReplicas >= its spec.replicas (absent: 1); with
      readyReplicas absent only spec.replicas 0 passes. Spec.replicas is the ReplicaSet's, which the
      Deployment controller copies from the live Deployment (whatever an HPA set), never Pulumi's inputs.
    Without `replica_set`, the Deployment is taken to have one ReplicaSet at rest: its spec.replicas and
    readyReplicas are the Deployment's. PersistentVolumeClaims (all must be Bound) are not modelled."""
    metadata = live.get("metadata") or {}
    status = live.get("status") or {}
    if not reading and (
        "observedGeneration" not in status or status["observedGeneration"] != metadata.get("generation")
    ):
        return False
    revision = (metadata.get("annotations") or {}).get(REVISION, "")
    conditions = status.get("conditions")
    if not revision or not isinstance(conditions, list):
        return False
    available = progressed = False
    for condition in conditions:
        if condition.get("type") == "Progressing":
            progressed = (
                condition.get("status") == "True" and condition.get("reason") == "NewReplicaSetAvailable"
            )
        if condition.get("type") == "Available":
            available = condition.get("status") == "True"
    if replica_set is None:
        replica_set = {
            "metadata": {"annotations": {REVISION: revision}},
            "spec": {k: v for k, v in (live.get("spec") or {}).items() if k == "replicas"},
            "status": {k: v for k, v in status.items() if k == "readyReplicas"},
        }
    if ((replica_set.get("metadata") or {}).get("annotations") or {}).get(REVISION) != revision:
        return False
    wanted = (replica_set.get("spec") or {}).get("replicas", 1)
    ready = (replica_set.get("status") or {}).get("readyReplicas")
    rs_ready = ready >= wanted if ready is not None else wanted == 0
    return available and rs_ready and (revision == "1" or progressed)
