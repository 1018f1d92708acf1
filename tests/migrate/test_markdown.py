"""migrate/markdown.py, proven with a GFM parser: whatever a value holds, the document around it has
the same tree as with a plain value, and the value reads back as the characters it holds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from migrate.markdown import EMPTY_CODE, WORD_JOINER, code, fence, html, printable, text
from tests.markdown_tree import HOSTILE, nodes, render, texts, tree

# Every context a value is put in by diff and the report: a paragraph, a list item's start, a table
# cell, a heading, inside emphasis, after a fixed code span, and a raw HTML block's summary.
DOCUMENT = """\
### Title {code}

Phase **a → b**: {text} and {code} (note).

| Action | Resource | Pulumi name | Detail |
| --- | --- | --- | --- |
| update | {text} | {cell} | `spec.x`: {text} → {text} |
| delete | {text} | {cell} | removed |

- {text}
- **{text}**: {code}
  - {text}

<details><summary>update {html} (<code>{html}</code>)</summary>

{fence}

</details>

#### Risks

- end of the document
"""


def document(value: str) -> str:
    return DOCUMENT.format(
        code=code(value),
        cell=code(value, cell=True),
        text=text(value),
        html=html(value),
        fence=fence(f"+ {value}\n- {value}\n {value}\n", "diff"),
    )


PLAIN = document("plain")


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_no_value_changes_the_document_tree(value):
    assert tree(document(value)) == tree(PLAIN)


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_each_context_reads_back_the_value(value):
    shown = printable(value)
    if value:
        assert texts(f"x {code(value)} y")[1] == shown
        cell = texts(f"| a |\n| --- |\n| {code(value, cell=True)} |")[1]
        # An odd run of backslashes right before a pipe shows one more (keeping the cell whole).
        assert cell in (shown, re.sub(r"(\\+)\|", lambda m: m.group(1) + "\\|", shown))
    assert "".join(texts(f"x {text(value)} y")).replace(WORD_JOINER, "") == f"x {shown or '(empty)'} y"
    assert "".join(texts(f"- {text(value)}")).replace(WORD_JOINER, "") == (shown or "(empty)")


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_no_link_image_or_html_comes_from_a_value(value):
    rendered = render(f"{text(value)} {code(value)} {code(value, cell=True)}")
    assert "<a " not in rendered and "<img" not in rendered
    assert not any(n.type in ("html_inline", "html_block", "link", "image") for n in nodes(text(value)))
    # GitHub links `www.` on the raw source (cmark-gfm autolink.c www_match); the escape breaks it.
    assert not re.search(r"(?i)(^|[\s*_~(])www\.", text(value))
    # URL autolinks start from a bare `:` before `//` (url_match); each is escaped (odd backslashes).
    assert not re.search(r"(^|[^\\])(\\\\)*://", text(value))


def test_code_span_is_longer_than_any_backtick_run():
    assert code("a`b") == "``a`b``"
    assert code("`") == "`` ` ``"
    assert code(" ") == "` `"
    assert code("") == EMPTY_CODE
    assert code("a|b", cell=True) == "`a\\|b`"
    assert code("plain") == "`plain`"


def test_text_leaves_plain_names_as_they_are():
    assert text("Deployment shop/orders-api (patch)") == "Deployment shop/orders-api (patch)"
    assert text("- x") == "\\- x"
    assert text("12. x") == "12\\. x"


def test_fence_is_never_closed_by_the_body():
    body = "```\n````\n   `````\n"
    block = fence(body, "diff")
    assert block.startswith("``````diff\n") and block.endswith("\n``````")
    assert tree(f"{block}\n\nafter\n") == tree(f"{fence('x', 'diff')}\n\nafter\n")


def test_html_escapes_what_html_reads():
    assert html('<b a="1">&\'') == "&lt;b a=&quot;1&quot;&gt;&amp;&#39;"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_any_string_keeps_the_tree(value):
    assert tree(document(value)) == tree(PLAIN)


@pytest.mark.parametrize(
    "value",
    ["x\n<!-- hidden", "a`b", "[click](https://evil.example)", "<img src=x>", "a | b", "user@evil.com"],
)
def test_the_model_sees_each_attack_when_unescaped(value):
    """The comparison above can fail: the same values put in raw change the tree."""
    raw = DOCUMENT.format(code=f"`{value}`", cell=f"`{value}`", text=value, html=value, fence="```\nx\n```")
    assert tree(raw) != tree(DOCUMENT.format(code="`a`", cell="`a`", text="a", html="a", fence="```\nx\n```"))
