"""Exit codes and the error that carries one: shared by the parser and every command, and importable
without the library, so `--help` and a usage error load nothing else (migrate/__main__.py)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_INPUT = 2
# 128 + SIGPIPE: what a shell reports for a command that signal ended, as it ends C tools writing to a
# reader that stopped reading (`| head`); Python ignores SIGPIPE and raises BrokenPipeError instead
# (https://docs.python.org/3/library/signal.html#note-on-sigpipe), so the tool says it itself.
EXIT_STDOUT_CLOSED = 141


class InputError(Exception):
    """Problems that stop a command; `exit_code` 2 for unreadable input, 1 for an invalid config."""

    def __init__(self, problems: list[str], exit_code: int):
        super().__init__("\n".join(problems))
        self.problems = problems
        self.exit_code = exit_code
