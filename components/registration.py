"""The only place desired-state specs become Pulumi resources. Dispatch is one explicit table from type
token to SDK class, an unknown type is an error, and options are translated one-to-one, so what the
engine sees is exactly what `migrate render` shows.

Kubernetes objects are registered as plain `pulumi.CustomResource`s (`kubernetes_object`) under the type
token, inputs, options and provider version their typed `pulumi_kubernetes` class would send, without
that class's aliases (see `kubernetes_object` for why that is safe); the typed classes stay the table and
the source of the accepted and required fields, and tests/components/test_registration.py proves, for
every spec of every reference phase, that the typed class registers the same thing."""

from __future__ import annotations

import enum
import inspect
import re
import sys
import typing
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s
from pulumi import _types as pulumi_types
from pydantic_core import PydanticCustomError

from components.desired.aci import CONTAINER_GROUP_TYPE
from components.desired.pools import AGENT_POOL_TYPE
from components.desired.spec import OUTPUT_REFERENCE, ResourceSpec

KUBERNETES_CLASSES: dict[str, type[pulumi.CustomResource]] = {
    "kubernetes:core/v1:Namespace": k8s.core.v1.Namespace,
    "kubernetes:core/v1:NamespacePatch": k8s.core.v1.NamespacePatch,
    "kubernetes:core/v1:ServiceAccount": k8s.core.v1.ServiceAccount,
    "kubernetes:core/v1:ConfigMap": k8s.core.v1.ConfigMap,
    "kubernetes:core/v1:Service": k8s.core.v1.Service,
    "kubernetes:core/v1:ServicePatch": k8s.core.v1.ServicePatch,
    "kubernetes:apps/v1:DaemonSet": k8s.apps.v1.DaemonSet,
    "kubernetes:apps/v1:Deployment": k8s.apps.v1.Deployment,
    "kubernetes:apps/v1:DeploymentPatch": k8s.apps.v1.DeploymentPatch,
    "kubernetes:node.k8s.io/v1:RuntimeClass": k8s.node.v1.RuntimeClass,
    "kubernetes:policy/v1:PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "kubernetes:autoscaling/v2:HorizontalPodAutoscalerPatch": k8s.autoscaling.v2.HorizontalPodAutoscalerPatch,
    "kubernetes:batch/v1:Job": k8s.batch.v1.Job,
    "kubernetes:discovery.k8s.io/v1:EndpointSlice": k8s.discovery.v1.EndpointSlice,
    "kubernetes:rbac.authorization.k8s.io/v1:Role": k8s.rbac.v1.Role,
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": k8s.rbac.v1.RoleBinding,
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy": (
        k8s.admissionregistration.v1.ValidatingAdmissionPolicy
    ),
    "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding": (
        k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding
    ),
}
# Azure resources, each registered from the SDK's typed args object, built from its spec's wire inputs.
AZURE_CLASSES: dict[str, tuple[type[pulumi.CustomResource], type]] = {
    AGENT_POOL_TYPE: (azure_native.containerservice.AgentPool, azure_native.containerservice.AgentPoolArgs),
    CONTAINER_GROUP_TYPE: (
        azure_native.containerinstance.ContainerGroup,
        azure_native.containerinstance.ContainerGroupArgs,
    ),
    "azure-native:alertsmanagement:PrometheusRuleGroup": (
        azure_native.alertsmanagement.PrometheusRuleGroup,
        azure_native.alertsmanagement.PrometheusRuleGroupArgs,
    ),
}
# Custom resources go through CustomResource, which takes apiVersion, kind, metadata and spec; any
# other top-level field would be dropped, so the type must be listed and such a field is an error.
CUSTOM_RESOURCE_TYPES = frozenset(
    {
        "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
        "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
        "kubernetes:keda.sh/v1alpha1:ScaledObject",
    }
)
# Field-level patches of custom resources: CustomResourcePatch registers `kubernetes:<apiVersion>:<Kind>Patch`
# (pulumi-kubernetes sdk/python/pulumi_kubernetes/apiextensions/CustomResourcePatch.py).
CUSTOM_RESOURCE_PATCH_TYPES = frozenset({"kubernetes:keda.sh/v1alpha1:ScaledObjectPatch"})
_CUSTOM_RESOURCE_FIELDS = frozenset({"apiVersion", "kind", "metadata", "spec"})
_CUSTOM_TYPES = CUSTOM_RESOURCE_TYPES | CUSTOM_RESOURCE_PATCH_TYPES


class RegistrationError(TypeError):
    """A spec the program cannot register faithfully; raised before the engine sees anything of it."""


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def options_for(
    spec: ResourceSpec,
    parent: pulumi.Resource,
    local: Mapping[str, pulumi.Resource],
    depends_on: Sequence[pulumi.Resource] = (),
    defaults: pulumi.ResourceOptions | None = None,
) -> pulumi.ResourceOptions:
    """`spec.depends_on` names resources registered earlier by the same component (`local`); what the
    whole component waits for comes in as `depends_on`. `defaults` gives the provider plugin's version
    and download URL, which a typed SDK class would merge in itself."""
    return pulumi.ResourceOptions(
        version=defaults.version if defaults else None,
        plugin_download_url=defaults.plugin_download_url if defaults else None,
        parent=parent,
        protect=spec.protect,
        import_=spec.import_id,
        depends_on=[*(local[name] for name in spec.depends_on), *depends_on],
        ignore_changes=list(spec.ignore_changes) or None,
        replace_on_changes=list(spec.replace_on_changes) or None,
        delete_before_replace=spec.delete_before_replace,
        retain_on_delete=spec.retain_on_delete or None,
        deleted_with=local[spec.deleted_with] if spec.deleted_with else None,
    )


@cache
def _parameters(resource_class: type) -> frozenset[str]:
    """The resource's input keywords, without its own logical name and options."""
    names = list(inspect.signature(resource_class._internal_init).parameters)  # type: ignore[attr-defined]
    return frozenset(name for name in names if name not in ("__self__", "resource_name", "opts"))


def _sdk_kwargs(resource_class: type, args: Any) -> dict[str, Any]:
    """The args object's fields as the resource's keyword arguments. A resource renames an argument that
    clashes with its own first parameter (AgentPool: `resource_name` → `resource_name_`), which is why
    an args object cannot be passed as it is; the rename is read from the signature."""
    parameters = _parameters(resource_class)
    kwargs = {}
    for key, value in vars(args).items():
        name = key if key in parameters else f"{key}_"
        if name not in parameters:
            raise RegistrationError(f"{resource_class.__name__} takes no argument {key!r}")
        kwargs[name] = value
    return kwargs


def wire_inputs(value: Any) -> Any:
    """SDK args objects to the engine's camelCase wire form, by the SDK's own property names."""
    if pulumi_types.is_input_type(type(value)):
        return {key: wire_inputs(item) for key, item in pulumi_types.input_type_to_dict(value).items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {key: wire_inputs(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [wire_inputs(item) for item in value]
    return value


@cache
def _input_properties(args_class: type) -> tuple[dict[str, str], dict[str, Any]]:
    """An SDK input type's Python name by wire name, and its declared type by wire name."""
    names = {wire: python for python, wire in pulumi_types.input_type_py_to_pulumi_names(args_class).items()}
    return names, pulumi_types.input_type_types(args_class)


def _input_type(hint: Any) -> type | None:
    """The SDK input type (an `...Args` class) a property's declared type names, if any."""
    if isinstance(hint, type) and pulumi_types.is_input_type(hint):
        return hint
    if typing.get_origin(hint) is typing.Union:
        return next(filter(None, map(_input_type, typing.get_args(hint))), None)
    return None


def _typed(hint: Any, value: Any) -> Any:
    """A wire value as the SDK takes it where `hint` is declared: objects of an input type as that type."""
    if isinstance(value, Mapping):
        args_class = _input_type(hint)
        if args_class is not None:
            return sdk_args(args_class, value)
        origin, parameters = typing.get_origin(hint), typing.get_args(hint)
        item = parameters[1] if origin in (Mapping, dict) and len(parameters) == 2 else None
        return {key: _typed(item, entry) for key, entry in value.items()}
    if isinstance(value, list | tuple):
        parameters = typing.get_args(hint) if typing.get_origin(hint) in (Sequence, list) else ()
        return [_typed(parameters[0] if parameters else None, entry) for entry in value]
    return value


def sdk_args(args_class: type, inputs: Mapping[str, Any]) -> Any:
    """The SDK's own args object for wire inputs (the inverse of `wire_inputs`): each input under the
    Python name the SDK gives it, nested objects as their own args classes. An input the class does not
    have is an error, as is a missing required one (the class's TypeError)."""
    names, hints = _input_properties(args_class)
    unknown = sorted(key for key in inputs if key not in names)
    if unknown:
        raise RegistrationError(f"{args_class.__name__} has no input {', '.join(map(repr, unknown))}")
    return args_class(**{names[key]: _typed(hints.get(key), value) for key, value in inputs.items()})


def with_outputs(value: Any, local: Mapping[str, pulumi.Resource]) -> Any:
    """`value` with each `${resource.path}` (components.desired.spec.output_reference) replaced by that
    output of the resource registered under that name in the same component: the engine then waits for
    it, and the Kubernetes provider gets the value once the cloud has it (an ACI group's private IP).

    Copy on write: a dict or list without a reference is returned as it is, shared with the spec, so
    registering does not copy every manifest (26,000 dicts and lists at 200 workloads). The SDK only
    reads inputs: pulumi/runtime/rpc.py `serialize_property` builds new structures from any Mapping or
    Sequence, and `transfer_properties` reads the top-level keys."""
    if isinstance(value, str):
        match = OUTPUT_REFERENCE.match(value)
        if match is None:
            return value
        resource = local.get(match["resource"])
        if resource is None:
            raise RegistrationError(f"{value}: no resource {match['resource']!r} is registered before it")
        first, *rest = match["path"].split(".")
        return getattr(resource, snake_case(first)).apply(lambda found: _at(found, rest))
    if isinstance(value, Mapping):
        changed = {key: new for key, item in value.items() if (new := with_outputs(item, local)) is not item}
        return {**value, **changed} if changed else value
    if isinstance(value, list | tuple):
        items = [with_outputs(item, local) for item in value]
        return items if any(new is not item for new, item in zip(items, value, strict=True)) else value
    return value


def _at(value: Any, path: Sequence[str]) -> Any:
    for part in path:
        if value is None:
            return None
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, snake_case(part))
    return value


# What every typed pulumi_kubernetes class merges into its options first: the provider's version (the
# engine picks the plugin by it) and its download URL (pulumi_kubernetes/_utilities.py).
KUBERNETES_DEFAULTS = k8s._utilities.get_resource_opts_defaults()


def kubernetes_object(
    spec: ResourceSpec,
    parent: pulumi.Resource,
    local: Mapping[str, pulumi.Resource],
    depends_on: Sequence[pulumi.Resource] = (),
) -> pulumi.CustomResource:
    """A Kubernetes object registered as the typed class would register it, minus the class's aliases.

    Why not the typed class: under mocks a Deployment cost 8.2 ms through `k8s.apps.v1.Deployment` and
    3.2 ms as a plain CustomResource with the same token and inputs (issue 24); about half of that is
    the aliases the generated class adds for every other apiVersion of its kind
    (`kubernetes:apps/v1beta1:Deployment`, `apps/v1beta2`, `extensions/v1beta1`; patches alias the
    same with `Patch`), each resolved into an alias spec at every registration. pulumi-kubernetes adds
    them so that a program moving an object to a newer apiVersion keeps its resource: the type token,
    and so the URN, carries the apiVersion, and without an alias the engine plans a create of the "new"
    resource, which Kubernetes refuses since the object exists, and a delete of the "old" one
    (pulumi/pulumi-kubernetes#798 "Auto-alias resource apiVersions", fixing #573 and #546; #991
    generates them for every kind from the OpenAPI spec: provider/pkg/gen/typegen.go `createAliases`,
    schema.go, which also gives each `*Patch` its kind's aliases). This project has only ever registered
    the current tokens (`git log -p -- components` has no older one), so no stack of it holds an URN
    under an older token and the aliases have nothing to match: dropping them changes no URN and no
    step. They only matter to a stack that once registered the same logical name under an older token,
    which a stack of this program never did; adopted objects are imported by id under the current token.
    An alias the project sets itself still goes through `opts` (it sets none today).

    `pulumi.CustomResource` itself, not a subclass, for the stack the SDK records (issue 24). At every
    registration pulumi/runtime/resource.py `_get_stack_trace` walks the whole Python stack, finds the
    third `__init__` from the innermost frame (Resource's, CustomResource's, then its caller's) and turns
    each frame calling it into a source position, the innermost being the `sourcePosition`. With no
    `__init__` of its own here, that third one is the component's constructor: a Kubernetes object
    records the line that constructs its component, as the component itself does, and the frames from
    there out, not the four frames of this module under the component. About 13 frames are converted
    per resource under the benchmark (0.35 G of 14.7 G instructions saved at 100 workloads); the rest is
    the SDK's, for any resource registered under a constructor, and no SDK setting turns it off. The
    engine only keeps both in the state: pkg/resource/deploy/source_eval.go `getFromRequest` makes them
    project-relative, step_generator.go copies them from the goal into the new state and compares
    neither (a stack updated by this version gets new values there, with no step or diff), and
    sdk/go/common/apitype/core.go `ResourceV3` stores them as `sourcePosition` and `stackTrace`. Azure
    resources, still through their typed classes, record `register`."""
    props = kubernetes_props(spec, local)
    opts = options_for(spec, parent, local, depends_on, KUBERNETES_DEFAULTS)
    return pulumi.CustomResource(spec.type, spec.name, props, opts)


def _camel_case(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _init_args(resource_class: type) -> type:
    module = sys.modules[resource_class.__module__]
    name = resource_class.__name__
    return getattr(module, f"{name}InitArgs", None) or getattr(module, f"{name}Args")


@cache
def _kubernetes_fields(type_token: str) -> tuple[str, str, frozenset[str], tuple[str, ...]]:
    """apiVersion and kind the typed class sets, the top-level fields it takes and those it requires,
    read from the class and its args class (required: a parameter without default)."""
    _, group_version, kind = type_token.split(":")
    group, version = group_version.split("/")
    api_version = version if group == "core" else group_version
    if type_token in _CUSTOM_TYPES:
        taken = _CUSTOM_RESOURCE_FIELDS
        required: tuple[str, ...] = ()
    else:
        resource_class: type = KUBERNETES_CLASSES[type_token]
        taken = frozenset(_camel_case(name) for name in _parameters(resource_class) if name != "__props__")
        signature = inspect.signature(_init_args(resource_class))
        required = tuple(
            _camel_case(name)
            for name, parameter in signature.parameters.items()
            if parameter.default is inspect.Parameter.empty
        )
    return api_version, kind.removesuffix("Patch"), taken, required


def kubernetes_props(spec: ResourceSpec, local: Mapping[str, pulumi.Resource]) -> dict[str, Any]:
    """The inputs the typed class would send for `spec`: its top-level fields (wire names, camelCase),
    apiVersion and kind set from the type, output references resolved except in custom resources (whose
    generic class never resolved them). A field the class would refuse or drop is an error."""
    api_version, kind, taken, required = _kubernetes_fields(spec.type)
    manifest = spec.inputs
    extra = [key for key in manifest if key not in taken]
    if extra:
        if taken is _CUSTOM_RESOURCE_FIELDS:
            raise RegistrationError(f"{spec.name}: {spec.type} cannot carry {sorted(extra)}")
        raise RegistrationError(f"{spec.name}: {spec.type} takes no top-level field {sorted(extra)}")
    missing = [key for key in required if manifest.get(key) is None]
    if missing:
        raise RegistrationError(f"{spec.name}: {spec.type} needs {missing}")
    if manifest.get("apiVersion", api_version) != api_version or manifest.get("kind", kind) != kind:
        raise RegistrationError(f"{spec.name}: a {spec.type} must say apiVersion {api_version}, kind {kind}")
    if taken is _CUSTOM_RESOURCE_FIELDS:
        props = dict(manifest)
    else:
        props = {key: with_outputs(value, local) for key, value in manifest.items()}
    props["apiVersion"] = api_version
    props["kind"] = kind
    return props


def is_kubernetes(type_token: str) -> bool:
    return type_token in KUBERNETES_CLASSES or type_token in _CUSTOM_TYPES


def register(
    spec: ResourceSpec,
    parent: pulumi.Resource,
    local: Mapping[str, pulumi.Resource],
    depends_on: Sequence[pulumi.Resource] = (),
) -> pulumi.CustomResource:
    if spec.type in AZURE_CLASSES:
        resource_class, args_class = AZURE_CLASSES[spec.type]
        args = sdk_args(args_class, spec.inputs)
        opts = options_for(spec, parent, local, depends_on)
        return resource_class(spec.name, opts=opts, **_sdk_kwargs(resource_class, args))
    if not is_kubernetes(spec.type):
        raise RegistrationError(f"{spec.name}: no class registers {spec.type}")
    return kubernetes_object(spec, parent, local, depends_on)


def register_all(
    specs: Sequence[ResourceSpec], parent: pulumi.Resource, depends_on: Sequence[pulumi.Resource] = ()
) -> dict[str, pulumi.CustomResource]:
    """Register a component's specs in order, each visible to the `depends_on` of those after it."""
    registered: dict[str, pulumi.CustomResource] = {}
    for spec in specs:
        registered[spec.name] = register(spec, parent, registered, depends_on)
    return registered


def component_depends_on(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """What a component was told to wait for; a component forwards it to every child, since children
    do not inherit `depends_on` (pulumi/pulumi sdk/python/lib/pulumi/resource.py ResourceOptions)."""
    value = opts.depends_on if opts else None
    if value is None:
        return []
    if isinstance(value, pulumi.Resource):
        return [value]
    if isinstance(value, list | tuple) and all(isinstance(item, pulumi.Resource) for item in value):
        return list(value)
    raise RegistrationError("pass depends_on to a component as a Resource or a list of Resources")


class ArgsError(ValueError):
    """Wrong component args: every problem, each naming the argument, raised before registering."""


def check_arg(problems: list[str], arg: str, value: Any, rule: Callable[[Any], Any]) -> None:
    """Apply a config rule to a plain argument; Outputs are only known when the engine runs."""
    if isinstance(value, pulumi.Output):
        return
    try:
        rule(value)
    except (PydanticCustomError, ValueError) as error:
        problems.append(f"{arg}: {error} (got {value!r})")


class SpecComponent(pulumi.ComponentResource):
    """A component that registers what its pure builder returns for its args: the one shape every public
    component shares. Subclasses validate their args, call `_register`, and expose Outputs."""

    # Class annotations are the component's outputs to other languages (the component provider's
    # analyzer reads them), so these two stay unannotated at class level.
    TYPE = ""

    def _register(
        self,
        name: str,
        args: Any,
        opts: pulumi.ResourceOptions | None,
        builder: Callable[[str, Any], list[ResourceSpec]],
        problems: list[str],
    ) -> None:
        if problems:
            raise ArgsError("\n".join(f"{type(self).__name__} {name!r}: args.{line}" for line in problems))
        depends_on = component_depends_on(opts)
        super().__init__(self.TYPE, name, None, opts)
        self.specs: list[ResourceSpec] = builder(name, args)
        """What the component registers, as the pure builder made it."""
        self.resources: dict[str, pulumi.CustomResource] = register_all(self.specs, self, depends_on)

    @staticmethod
    def after(resource: pulumi.Resource, value: Any) -> pulumi.Output[Any]:
        """`value` as an Output that resolves once `resource` exists, so consumers wait for it."""
        return resource.urn.apply(lambda _: value)
