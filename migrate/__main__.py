"""Command line: `python -m migrate init|phases|render|diff|check ...` from the project root.

Each command imports what it runs when it runs (the handlers below): building the parser loads no
command and no part of the library but the Kubernetes versions it lists, so `render` does not pay for
`check`, `diff` and `init`, and `--help` for none of them."""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import textwrap
from pathlib import Path
from typing import NoReturn

from components.core.kubernetes import KUBERNETES_VERSIONS
from migrate.defaults import DEFAULT_MAX_CHARS, STACK_PLACEHOLDER
from migrate.exits import EXIT_INPUT, EXIT_OK, EXIT_PROBLEMS, EXIT_STDOUT_CLOSED, InputError
from migrate.init import command as init
from migrate.init.command import PROJECT_FILE

# One rule for every command (docs/offline-review.md "Exit codes" says the same;
# tests/migrate/test_exit_codes.py holds both to it): 2 when the command cannot act on what it was
# given, 1 when what it read has problems.
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
    EXIT_STDOUT_CLOSED: (
        "the standard output was closed before everything was written to it (its reader stopped reading, "
        "as `head` does); nothing more is printed. 128 + SIGPIPE, as a shell reports a command that "
        "signal ended"
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


def _render(args: argparse.Namespace) -> int:
    from migrate.render import render_stack_file
    from migrate.writes import UnsafeWrite, write_files

    stack = render_stack_file(args.stack_file, project_root(args.stack_file))
    for line in stack.warnings:
        print(f"warning: {line}", file=sys.stderr)
    files = stack.rendered.files()
    if args.out:
        try:
            write_files(args.out, files, force=True)
        except UnsafeWrite as error:
            raise InputError([str(error)], EXIT_INPUT) from None
        except OSError as error:
            raise InputError([f"{args.out}: cannot write: {error.strerror}"], EXIT_INPUT) from None
        print(f"rendered phase {stack.phase} of {args.stack_file} to {args.out}/")
        return EXIT_OK
    if args.section != "all":
        _write(files[f"{args.section}.yaml"])
        return EXIT_OK
    for index, (name, body) in enumerate(files.items()):
        sys.stdout.write(f"{'' if index == 0 else chr(10)}# ===== {name} =====\n")
        _write(body)
    return EXIT_OK


_CHUNK = 1 << 20


def _write(text: str) -> None:
    """`text` to stdout a megabyte at a time: encoded at once, a rendered phase of 2,000 workloads
    would be held twice more (the encoded bytes, and the text with its heading)."""
    for start in range(0, len(text), _CHUNK):
        sys.stdout.write(text[start : start + _CHUNK])


def _diff(args: argparse.Namespace) -> int:
    if args.max_chars < 0:
        raise InputError(["--max-chars must be 0 (no limit) or positive"], EXIT_INPUT)
    from migrate.diff import diff_stack_files

    output = diff_stack_files(
        args.from_stack_file,
        args.to_stack_file,
        project_root(args.to_stack_file),
        base_ref=args.base_ref,
        allow_cross_cluster=args.allow_cross_cluster,
        stack=args.stack,
        max_chars=args.max_chars,
    )
    for line in output.warnings:
        print(f"warning: {line}", file=sys.stderr)
    _write(output.markdown)
    return EXIT_OK


def _kubernetes_versions(version: str | None) -> tuple[str, ...]:
    if version is None:
        return KUBERNETES_VERSIONS
    if version not in KUBERNETES_VERSIONS:
        raise InputError(
            [f"--kubernetes-version {version}: unsupported; choose one of {', '.join(KUBERNETES_VERSIONS)}"],
            EXIT_INPUT,
        )
    return (version,)


def _check(args: argparse.Namespace) -> int:
    from migrate.check import check_stack_file

    versions = _kubernetes_versions(args.kubernetes_version)
    if args.base_ref is not None and not args.from_file:
        raise InputError(
            ["--base-ref names the revision of the --from stack file; pass --from too"], EXIT_INPUT
        )
    verdict = check_stack_file(
        args.stack_file,
        project_root(args.stack_file),
        stack=args.stack,
        source_file=args.from_file,
        base_ref=args.base_ref,
        versions=versions,
    )
    if verdict.problems:
        for line in verdict.problems:
            print(line)
        print(f"check failed: {len(verdict.problems)} problem(s)", file=sys.stderr)
        return EXIT_PROBLEMS
    for line in [*verdict.warnings, verdict.summary]:
        print(line)
    return EXIT_OK


def _phases(args: argparse.Namespace) -> int:
    from migrate.phases import write

    for line in write(args.environment, project_root(args.environment)):
        print(line)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler = {"render": _render, "diff": _diff, "check": _check, "phases": _phases, "init": init.run}[
        args.command
    ]
    # A command builds large trees of small objects (YAML documents, their copies, the desired state) that
    # live until it exits: the cyclic garbage collector's passes over them cost 5-25 % of its time and
    # free next to nothing, so it is off while the command runs (measured on `check --from` of 2,000
    # workloads: the same peak memory with it on or off); on again for a caller that runs main in-process.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return handler(args)
    except InputError as error:
        for line in error.problems:
            print(line, file=sys.stderr)
        return error.exit_code
    finally:
        if collecting:
            gc.enable()


def run() -> NoReturn:
    """`main` as a process (`python -m migrate`, the console script): its exit code, after flushing what
    it printed, without tearing the interpreter down. A command's objects live until it exits, and
    freeing them one by one, with a last pass of the cyclic collector, took 0.07 s of `check --from` at
    100 workloads and 0.2 s at 500 (13-16 % of its time). The process holds nothing else that needs
    closing: every file it writes is closed where written (migrate/writes.py), its forked children and
    threads are waited for, and the only atexit handler is logging's (concurrent.futures imports it),
    for handlers the tool never adds. `os._exit` skips exactly that teardown (and stdio's flush: done
    here), https://docs.python.org/3/library/os.html#os._exit."""
    try:
        code = main()
    except SystemExit as leaving:  # `--help`, and usage errors (_Parser.error)
        code = leaving.code if isinstance(leaving.code, int) else EXIT_INPUT if leaving.code else EXIT_OK
    except BrokenPipeError:
        code = EXIT_STDOUT_CLOSED
    except OSError as error:
        code = _unwritable(error)
    os._exit(_flushed(code))


def _unwritable(error: OSError) -> int:
    """An error writing the standard output (a full disk under a redirection): one line, not a
    traceback. Every file a command reads or writes by name turns its own errors into problems
    (InputError), so an OSError that reaches here with no file name is a write to stdout."""
    if error.filename is not None:
        raise error
    with contextlib.suppress(OSError):  # stderr cannot take it either: the exit code says it
        print(f"cannot write the standard output: {error.strerror}", file=sys.stderr, flush=True)
    return EXIT_INPUT


def _flushed(code: int) -> int:
    """`code`, or what stops the standard streams taking what is left in their buffers."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            code = code if stream is sys.stderr else EXIT_STDOUT_CLOSED
        except OSError as error:
            code = _unwritable(error) if stream is sys.stdout else code
    return code


if __name__ == "__main__":
    run()
