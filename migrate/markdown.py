"""The one way a string from the input reaches markdown (the `diff` PR comment, `init`'s report): it renders
as the characters it holds and cannot change the document around it. See docs/design/markdown-escaping.md."""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
EMPTY_CODE = '`""`'  # an empty code span cannot be written
EMPTY_TEXT = "(empty)"

# ASCII punctuation that opens or closes an inline construct anywhere (docs/design/markdown-escaping.md).
_INLINE = frozenset("\\`*_~[]!<>&|$")
# What opens a block when a line (or a list item's content) starts with it.
_BLOCK_START = re.compile(r"[#>+=*-]|\d{1,9}[.)]")
_WWW = re.compile(r"(?i)(?<=www)\.")
_SCHEME = re.compile(r":(?=//)")
_BACKTICKS = re.compile(r"`+")
_PIPE_AFTER_BACKSLASHES = re.compile(r"(\\*)\|")


def printable(value: object) -> str:
    """The value on one line: every character that is not printable shown as its Python escape."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _escape_pipes_in_cell(text: str) -> str:
    def escaped(match: re.Match[str]) -> str:
        run = match.group(1)
        # An odd number of backslashes right before the pipe: the cell scanner pairs them, the last
        # pair being `\|`. Doubling nothing of the value but adding one or two keeps that count odd.
        return run + ("\\" if len(run) % 2 == 0 else "\\\\") + "|"

    return _PIPE_AFTER_BACKSLASHES.sub(escaped, text)


def code(value: object, *, cell: bool = False) -> str:
    """An identifier from the input as an inline code span; `cell` when it stands in a table cell."""
    text = printable(value)
    if not text:
        return EMPTY_CODE
    if cell:
        text = _escape_pipes_in_cell(text)
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.strip(" ") and (text[0] in "` " or text[-1] in "` ") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def text(value: object) -> str:
    """Prose that holds input, as literal text that may stand anywhere in a line, a table cell or at
    the start of a list item."""
    source = printable(value)
    if not source:
        return EMPTY_TEXT
    out = []
    for char in source:
        if char in _INLINE:
            out.append("\\" + char)
        elif char == "@":
            out.append(f"{WORD_JOINER}@{WORD_JOINER}")
        else:
            out.append(char)
    escaped = _SCHEME.sub(r"\\:", _WWW.sub(r"\\.", "".join(out)))
    start = _BLOCK_START.match(escaped)
    if start:  # escape the marker's last character: `\#`, `\-`, `1\.`
        end = start.end() - 1
        escaped = f"{escaped[:end]}\\{escaped[end:]}"
    stripped = escaped.lstrip(" ")
    if len(stripped) != len(escaped):  # leading spaces could make indented code: keep them as entities
        escaped = "&#32;" * (len(escaped) - len(stripped)) + stripped
    if escaped.endswith(" "):  # trailing spaces before our line end would be a hard line break
        escaped = escaped[:-1] + "&#32;"
    return escaped


def html(value: object) -> str:
    """A value inside raw HTML we write: the characters HTML gives meaning, entity-encoded."""
    return (
        printable(value)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
    )


def fence(body: str, info: str = "") -> str:
    """`body` (whole lines) as a fenced code block no line of it can close."""
    longest = max((len(run) for run in _BACKTICKS.findall(body)), default=0)
    ticks = "`" * max(3, longest + 1)
    if body and not body.endswith("\n"):
        body += "\n"
    return f"{ticks}{info}\n{body}{ticks}"


def main(argv: list[str]) -> int:
    """For the workflow's shell: `python -m migrate.markdown code|text|html VALUE` prints VALUE escaped;
    `python -m migrate.markdown fence INFO` prints standard input as a fenced block."""
    import sys

    if len(argv) == 2 and argv[0] in ("code", "text", "html"):
        print({"code": code, "text": text, "html": html}[argv[0]](argv[1]))
        return 0
    if len(argv) == 2 and argv[0] == "fence":
        sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
        print(fence(sys.stdin.read(), argv[1]))
        return 0
    print("usage: python -m migrate.markdown code|text|html VALUE | fence INFO < FILE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
