"""The one way a string from the input reaches markdown (the `diff` PR comment, `init`'s
migration-report.md): whatever the string holds, it renders as the characters it holds and cannot change
the document around it.

Four contexts, one function each:

- `code(value)`: an identifier (a name, a label key or value, an image, a path, a git ref) as an inline
  code span. Everything inside a code span is literal (CommonMark 0.31 §6.1): no HTML, no link, no
  image, no emphasis, no autolink (cmark-gfm's autolink extension only rewrites text nodes and skips code,
  extensions/autolink.c `postprocess`). What remains is sized here: the backtick string is one longer
  than the longest backtick run in the value, so the value cannot end the span; a value that starts or
  ends with a backtick or a space is padded with one space each side, which the parser strips again; and
  in a table cell every `|` is escaped, because GFM splits the row into cells before it parses code
  spans and `\\|` is the only escape it honours there, inside code spans too (GFM spec §4.10,
  cmark-gfm extensions/table.c `unescape_pipes`, whose cell scanner `ext_scanners.re` pairs every
  backslash with the character after it: a backslash right before a pipe is doubled so that the
  pipe's own escape stays odd).
- `text(value)`: prose that holds input (a traffic reason naming a Service, a note of the readiness
  report) as literal text: every ASCII punctuation character that opens an inline construct anywhere is
  backslash-escaped (CommonMark §2.4: `\\` before any ASCII punctuation is that character): emphasis
  `*` `_`, strikethrough `~` (GFM), code `` ` ``, links and images `[` `]` `!`, raw HTML, comments and
  autolinks `<` `>`, entities `&`, table cells `|` and GitHub's math `$`. A URL autolink starts from a
  `:` followed by `//` (cmark-gfm autolink.c `url_match` runs when the inline parser meets a bare `:`
  and checks the two slashes; an escaped `:` never reaches it), so that `:` is escaped; `www.` autolinks
  are matched on the raw source (`www_match` compares the bytes `www.`), so that dot is escaped. Email
  autolinks are found after parsing, on text nodes consolidated with their escaped characters
  (`postprocess` calls `cmark_consolidate_text_nodes` first), so no escape stops them: a WORD JOINER
  (U+2060, invisible) is put on both sides of every `@`, which ends the local part where
  `postprocess_text` rewinds and keeps a following name from being read as a GitHub @mention. What only
  counts at the start of a block (`#` headings, `>` quotes, `-` `+` `*` `1.` `1)` list items, `=`
  underlines, four spaces of indented code) is escaped when the value starts with it, since a value may
  start a list item.
- `html(value)`: a value inside raw HTML that we write (`<summary>` of a per-resource diff). An HTML
  block (`<details>` starts one: type 6 in CommonMark §4.6 and cmark-gfm src/scanners.re
  `html_block_start`) is passed through unparsed, so markdown escapes mean nothing there; the five
  characters HTML gives meaning are entity-encoded instead.
- `fence(body, info)`: a fenced code block whose fence is longer than any backtick run in the body, so
  no line of it can close the block (CommonMark §4.5: the closing fence is at least as long as the
  opening one).

Before any of that, characters that are not printable (newlines, tabs, NUL, other controls, the Unicode
line and paragraph separators) are shown as Python escapes (`\\n`, `\\x00`, `\\u2028`): a newline would
end a table row or a paragraph, and a line that starts with `<!--` opens an HTML block that hides the
rest of the comment (type 2, ended only by `-->`). Raw HTML is never written from input, so GitHub's tag
filter (cmark-gfm extensions/tagfilter.c: title, textarea, style, xmp, iframe, noembed, noframes,
script, plaintext) and its sanitizer are a second line, not the one this relies on.

Why code spans for identifiers rather than entity-escaping everything: a code span is inert to every
construct above, also to the ones that act after parsing (autolinks, mentions, emoji), and it shows a
reviewer exactly where a value from the input starts and ends. tests/migrate/test_markdown.py proves
each function with markdown-it-py's GFM-like parser: rendered with and without hostile strings, the
document trees are the same."""

from __future__ import annotations

import re

WORD_JOINER = "\u2060"
EMPTY_CODE = '`""`'  # an empty code span cannot be written
EMPTY_TEXT = "(empty)"

# ASCII punctuation that opens or closes an inline construct wherever it stands (see the docstring).
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
