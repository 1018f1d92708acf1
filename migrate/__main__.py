"""Command line: `python -m migrate init|phases|render|diff|check ...` from the project root."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import NoReturn

from components.core.inputs import escape
from components.export.schemas import KUBERNETES_VERSIONS
from migrate.check import (
    alert_warnings,
    check,
    manifest_problems,
    sibling_stack_problems,
    traffic_warnings,
    transition_capacity_problems,
    transition_capacity_warnings,
    transition_problems,
)
from migrate.diff import DEFAULT_MAX_CHARS, STACK_PLACEHOLDER, cross_cluster, render_diff
from migrate.init import command as init
from migrate.init.command import PROJECT_FILE
from migrate.markdown import text
from migrate.phases import step_problems, verify, write
from migrate.render import render
from migrate.revision import Source, load_at, read_raw_at, resolve
from migrate.state import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_PROBLEMS,
    InputError,
    Loaded,
    in_tree,
    load,
    load_raw,
    parse_only,
    previous_phase,
    read_manifests,
    read_raw,
    state_at,
)
from migrate.writes import UnsafeWrite, write_files

# One rule for every command (README "Exit codes" says the same; tests/migrate/test_exit_codes.py holds
# both to it): 2 when the command cannot act on what it was given, 1 when what it read has problems.
EXIT_RULE = {
    EXIT_OK: "success; warnings may be printed (check: no problems)",
    EXIT_PROBLEMS: (
        "problems in what the files say, one line each naming its key: an invalid config, a legacy "
        "manifest a stack file names that is missing, unreadable, malformed or refused (schema, "
        "Kubernetes' grammars), schema or scheduling problems, an unsafe transition"
    ),
    EXIT_INPUT: (
        "the command cannot act on what it was given: bad arguments; a file named on the command line "
        "(stack file, export, node pools, kubeconfig) missing, unreadable, malformed or beyond a limit; no "
        "project root (Pulumi.yaml) above the stack file; for check, a phase file out of date with or "
        "edited apart from its environment file or manifests, or of another stack than --stack; diff of "
        "two clusters without --allow-cross-cluster; a --base-ref that is no commit; a write refused (a "
        "symlink in the way, an existing file without --force)"
    ),
}


def _wrapped(text: str) -> str:
    return textwrap.fill(text, 100, initial_indent="", subsequent_indent="     ")


EPILOG = (
    "exit codes:\n"
    + "".join(f"  {code}  {_wrapped(meaning)}\n" for code, meaning in EXIT_RULE.items())
    + """
examples:
  python -m migrate phases stacks/Pulumi.prod.yaml
  python -m migrate render stacks/prod.2-prepare.yaml
  python -m migrate render stacks/prod.2-prepare.yaml --section kubernetes | kubectl diff -f -
  python -m migrate render stacks/prod.2-prepare.yaml --out build/prepare
  python -m migrate diff stacks/prod.3e-parallel-100.yaml stacks/prod.4-cutover.yaml
  python -m migrate diff stacks/Pulumi.prod.yaml stacks/Pulumi.prod.yaml --base-ref origin/main
  python -m migrate check stacks/prod.4-cutover.yaml --from stacks/prod.3e-parallel-100.yaml --stack prod
  python -m migrate check stacks/Pulumi.prod.yaml --from stacks/Pulumi.prod.yaml --base-ref origin/main
  python -m migrate init --kubectl-export export.yaml --node-pools pools.json --cluster SUB/RG/NAME \
      --stack contoso --out .
"""
)

CONSOLE_SCRIPT = "aks-wasm-migrate"  # pyproject.toml [project.scripts]

_BASE_REF_HELP = (
    "read the source stack file, and every legacy manifest it names, as they are at git revision REF "
    "(e.g. the pull request's base); the other side and its manifests from the working tree, so a "
    "re-exported manifest shows"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # usage errors: exit 2 without a traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def parser() -> argparse.ArgumentParser:
    invoked = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    main = _Parser(
        prog=CONSOLE_SCRIPT if invoked == CONSOLE_SCRIPT else "python -m migrate",
        description="Render, diff and check the phases of the AKS Wasm migration offline, from stack files.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = main.add_subparsers(dest="command", required=True, parser_class=_Parser)

    r = commands.add_parser(
        "render",
        help="every resource of a phase as YAML, with its lifecycle",
        description="Kubernetes objects (kubectl-ready), Azure AgentPool inputs and each resource's "
        "lifecycle (import, protect, ignore/replace on changes, depends on, deleted by this phase).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    r.add_argument("stack_file", type=Path)
    r.add_argument(
        "--out", type=Path, help="write kubernetes.yaml, patches.yaml, azure.yaml, lifecycle.yaml to DIR"
    )
    r.add_argument(
        "--section",
        choices=("all", "kubernetes", "patches", "azure", "lifecycle"),
        default="all",
        help="what to print to stdout (default all; `kubernetes` is valid `kubectl apply -f -` input)",
    )

    d = commands.add_parser(
        "diff",
        help="GitHub markdown of what moving between two stack files does",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    d.add_argument("from_stack_file", type=Path)
    d.add_argument("to_stack_file", type=Path)
    d.add_argument("--stack", default=STACK_PLACEHOLDER, help="stack name for the URNs (default <stack>)")
    d.add_argument(
        "--allow-cross-cluster",
        action="store_true",
        help="compare stack files of different clusters or subscriptions (the output starts with a warning)",
    )
    d.add_argument("--base-ref", metavar="REF", help=_BASE_REF_HELP)
    d.add_argument(
        "--max-chars",
        type=int,
        default=DEFAULT_MAX_CHARS,
        help=f"size limit of the output (default {DEFAULT_MAX_CHARS}; 0: no limit)",
    )

    c = commands.add_parser(
        "check",
        help="validate config, schemas, scheduling and (with --from) the transition",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("stack_file", type=Path)
    c.add_argument("--from", dest="from_file", type=Path, help="the stack file applied before this one")
    c.add_argument("--base-ref", metavar="REF", help=_BASE_REF_HELP + " (needs --from)")
    c.add_argument("--stack", help="fail (exit 2) unless the file is stack STACK's environment or phase file")
    c.add_argument(
        "--kubernetes-version",
        help=f"validate schemas for this version only (default all of {', '.join(KUBERNETES_VERSIONS)})",
    )
    init.add_parser(commands, EPILOG)

    p = commands.add_parser(
        "phases",
        help="generate the phase files of an environment file (Pulumi.<stack>.yaml)",
        description="Write <stack>.1-baseline.yaml ... next to the environment file: complete stack files "
        "for `pulumi up --config-file`, one per phase and traffic step, carrying its secrets keys.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("environment", type=Path)
    return main


def _ancestors(start: Path) -> list[Path]:
    start = start.resolve()
    return [start, *start.parents]


def project_root(stack_file: Path, cwd: Path | None = None) -> Path:
    """The project a stack file belongs to: the nearest directory holding Pulumi.yaml above the stack
    file, else above the current directory (the README's "from the project root"); legacy manifest
    paths are relative to it. InputError (exit 2) saying where it looked when there is none, so an
    installed copy never looks for manifests beside its own package."""
    looked: list[Path] = []
    for start in (Path(stack_file).parent, cwd or Path.cwd()):
        for directory in _ancestors(start):
            if (directory / PROJECT_FILE).is_file():
                return directory
            if directory not in looked:
                looked.append(directory)
    raise InputError(
        [
            f"{stack_file}: no {PROJECT_FILE} in any of {', '.join(map(str, looked))}; run from the project "
            f"root (the directory holding {PROJECT_FILE}) or name a stack file inside it"
        ],
        EXIT_INPUT,
    )


def _stale(path: Path, root: Path) -> list[str]:
    """Why `check` would refuse `path` as out of date, edited by hand or of a missing environment (exit
    2); render and diff go on with the file as it is, and say so."""
    try:
        verify(path, root=root)
    except InputError as error:
        return error.problems
    return []


def _render(args: argparse.Namespace) -> int:
    root = project_root(args.stack_file)
    loaded = load(args.stack_file, root)
    for line in _stale(args.stack_file, root):
        print(f"warning: {line} (`check` refuses it; rendered as the file is)", file=sys.stderr)
    config = loaded.migration.config
    previous = previous_phase(config.phase)
    rendered = render(loaded.state, state_at(loaded.migration, previous) if previous else None)
    if args.out:
        try:
            write_files(args.out, rendered.files(), force=True)
        except UnsafeWrite as error:
            raise InputError([str(error)], EXIT_INPUT) from None
        except OSError as error:
            raise InputError([f"{args.out}: cannot write: {error.strerror}"], EXIT_INPUT) from None
        print(f"rendered phase {config.phase.value} of {args.stack_file} to {args.out}/")
        return EXIT_OK
    files = rendered.files()
    if args.section != "all":
        sys.stdout.write(files[f"{args.section}.yaml"])
        return EXIT_OK
    for index, (name, body) in enumerate(files.items()):
        sys.stdout.write(f"{'' if index == 0 else chr(10)}# ===== {name} =====\n{body}")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    if args.max_chars < 0:
        raise InputError(["--max-chars must be 0 (no limit) or positive"], EXIT_INPUT)
    base_ref = None
    root = project_root(args.to_stack_file)
    if args.base_ref is None:
        before = load(args.from_stack_file, root)
    else:
        revision = resolve(args.base_ref, root)
        before = load_at(revision, *read_raw_at(revision, args.from_stack_file)).loaded
        base_ref = (revision.ref, revision.commit)
    after = load(args.to_stack_file, root)
    mismatch = cross_cluster(before, after)
    if mismatch and not args.allow_cross_cluster:
        raise InputError(
            [f"{mismatch}; refusing to diff (--allow-cross-cluster to compare anyway)"], EXIT_INPUT
        )
    warnings: list[str] = []  # plain text, for stderr; `notices` says the same in markdown
    notices: list[str] = []
    if mismatch:
        warnings.append(f"{mismatch}. This is not one cluster's transition")
        notices.append(f"**not one cluster's transition:** {text(mismatch)}")
    refused, _ = transition_problems(before.raw, after.raw)
    if refused:
        warnings.append(f"not one step, `check --from` refuses it: {'; '.join(refused)}")
        notices.append(
            "**this is not one step**, and `python -m migrate check --from` refuses it: "
            + text("; ".join(refused))
        )
    stale = _stale(args.to_stack_file, root) + ([] if args.base_ref else _stale(args.from_stack_file, root))
    for line in dict.fromkeys(stale):
        warnings.append(f"{line} (`check` refuses it; shown as the file is)")
        notices.append(f"**stale:** {text(line)}; `python -m migrate check` refuses it, shown as the file is")
    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)
    sys.stdout.write(
        render_diff(
            before.state,
            after.state,
            after.migration,
            source_file=str(before.path),
            target_file=str(args.to_stack_file),
            base_ref=base_ref,
            notices=tuple(notices),
            stack=args.stack,
            max_chars=args.max_chars,
        )
    )
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    versions: tuple[str, ...] = KUBERNETES_VERSIONS
    if args.kubernetes_version is not None:
        if args.kubernetes_version not in KUBERNETES_VERSIONS:
            raise InputError(
                [
                    f"--kubernetes-version {args.kubernetes_version}: unsupported; choose one of "
                    f"{', '.join(KUBERNETES_VERSIONS)}"
                ],
                EXIT_INPUT,
            )
        versions = (args.kubernetes_version,)
    if args.base_ref is not None and not args.from_file:
        raise InputError(
            ["--base-ref names the revision of the --from stack file; pass --from too"], EXIT_INPUT
        )
    root = project_root(args.stack_file)
    verify(args.stack_file, args.stack, root)
    raw = read_raw(args.stack_file)
    problems: list[str] = step_problems(args.stack_file, raw)
    transition = ""
    base: Source | None = None
    before: Loaded | None = None
    if args.from_file:
        revision = resolve(args.base_ref, root) if args.base_ref is not None else None
        label, source = (
            read_raw_at(revision, args.from_file) if revision else (args.from_file, read_raw(args.from_file))
        )
        found, transition = transition_problems(source, raw)
        problems += found
        try:  # without a revision its manifests are the target's, unless `workloads` changed (a problem)
            if revision:
                base = load_at(revision, label, source)
                # The cluster runs what today's exports say (a re-export records it): the transition's
                # capacity starts there, the diff rows compare with the revision.
                try:
                    before = load_raw(label, source, root)
                except InputError:
                    before = base.loaded
            else:
                parse_only(label, source)
                before = load_raw(label, source, root)
        except InputError as error:
            problems += [f"(source) {line}" for line in error.problems]
    changed: list[str] = []
    try:
        loaded = load_raw(args.stack_file, raw, root)
    except InputError as error:
        problems = error.problems + problems
    else:
        problems += check(loaded, versions)
        problems += sibling_stack_problems(args.stack_file, loaded.migration.config)
        if before is not None:
            problems += transition_capacity_problems(before, loaded, transition)
        if base:
            after = read_manifests(
                loaded.migration.config, str(args.stack_file), lambda relative: in_tree(relative, root)
            )
            changed = [path for path, text in after.items() if base.manifests.get(path, text) != text]
            problems += manifest_problems(source, raw, changed, transition)
    if problems:
        for line in problems:
            print(line)
        print(f"check failed: {len(problems)} problem(s)", file=sys.stderr)
        return EXIT_PROBLEMS
    warnings = traffic_warnings(loaded.state) + alert_warnings(loaded.migration.config)
    if before is not None:
        warnings += transition_capacity_warnings(before, loaded)
    for line in warnings:
        print(line)
    counts = sum(spec.is_kubernetes for spec in loaded.state.resources)
    reexported = f"; legacy manifests changed since {args.base_ref}: {escape(', '.join(changed))}"
    print(
        f"OK: {args.stack_file} phase {loaded.migration.config.phase.value}: {len(loaded.state.resources)} "
        f"resources, {counts} Kubernetes objects valid on Kubernetes {', '.join(versions)}, scheduling and "
        f"isolation from legacy selectors proven{f', transition {transition}' if transition else ''}"
        + (reexported if changed else "")
    )
    return EXIT_OK


def _phases(args: argparse.Namespace) -> int:
    for line in write(args.environment, project_root(args.environment)):
        print(line)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = {"render": _render, "diff": _diff, "check": _check, "phases": _phases, "init": init.run}[
        args.command
    ]
    try:
        return handler(args)
    except InputError as error:
        for line in error.problems:
            print(line, file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
