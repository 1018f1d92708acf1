"""A GitHub-flavoured markdown model for the tests: markdown-it-py's GFM-like parser (CommonMark with
tables, strikethrough, raw HTML and linkify), and the shape of what it parses.

GitHub links `www.` and `http(s)://` URLs and email addresses in text, never a bare `example.com`
(GFM spec §6.9), so linkify's fuzzy links are off and `www.` is checked on the raw source
(tests/migrate/test_markdown.py), as cmark-gfm matches it there."""

from __future__ import annotations

from typing import Any

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

HOSTILE = (
    "<!--",
    "x\n<!-- hidden",
    "\n\n<!--\n",
    "`",
    "a`b",
    "``` ",
    "```\nrm -rf /\n```",
    "<img src=https://evil.example/x.png>",
    "<script>alert(1)</script>",
    "<details><summary>",
    "</details>",
    "[click](https://evil.example)",
    "![img](https://evil.example/i.png)",
    "with spaces and a [markdown](link)",
    "https://evil.example/path",
    "www.evil.example",
    "WWW.evil.example/x",
    "user@evil.example",
    "user@evil.com",
    "mailto:user@evil.example",
    "a | b",
    "a \\| b",
    "\\|",
    "\\\\|",
    "|",
    "*bold* _em_ ~~strike~~ **x**",
    "# heading",
    "- item",
    "1. item",
    "1) item",
    "> quote",
    "    indented code",
    "---",
    "===",
    "&lt;img&gt; &amp; &#60;",
    "$x^2$",
    ":warning:",
    "trailing  ",
    " lead",
    "tab\there",
    "nul\x00byte",
    "line\u2028sep",
    "\r\ncrlf",
    "\\",
    "-->",
    "<",
    "",
    " ",
    "`` `",
    "@someone",
)


def parser() -> MarkdownIt:
    md = MarkdownIt("gfm-like")
    md.linkify.set({"fuzzy_link": False})
    return md


def _shape(node: SyntaxTreeNode) -> Any:
    """A node's structure: its type, tag and attributes (not its text), then its children's."""
    if node.type == "root":
        return ("root", "", {}, [_shape(child) for child in node.children])
    attrs = {k: v for k, v in node.attrs.items() if k != "style"} if node.type != "text" else {}
    children = [_shape(child) for child in node.children]
    # Adjacent text nodes are one run of text, however the parser cut them.
    merged: list[Any] = []
    for child in children:
        if child == ("text", "", {}, []) and merged and merged[-1] == child:
            continue
        merged.append(child)
    return (node.type, node.tag, attrs, merged)


def tree(markdown: str) -> Any:
    return _shape(SyntaxTreeNode(parser().parse(markdown)))


def render(markdown: str) -> str:
    return parser().render(markdown)


def nodes(markdown: str) -> list[SyntaxTreeNode]:
    """Every node of the document, depth first."""
    out: list[SyntaxTreeNode] = []
    stack = [SyntaxTreeNode(parser().parse(markdown))]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def texts(markdown: str) -> list[str]:
    """The content of every text and inline code node, in document order."""
    return [n.content for n in nodes(markdown) if n.type in ("text", "code_inline")]
