"""Reading the docs' Markdown the way the tests need it: fenced code blocks and inline code spans.

A fenced block may be indented (inside an admonition such as a collapsible solution); its
code is dedented. ``Block.container`` is the admonition it sits in, e.g. ``'??? success
"Solution"'``. A Python block followed by a block titled "output" (```` ```text title="output" ````)
shows what the Python block prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
ADMONITION = re.compile(r'^(?P<indent> *)(?P<marker>!!!|\?\?\?\+?) +(?P<kind>[\w-]+)(?: +"(?P<title>[^"]*)")?')
TITLE = re.compile(r'title="(?P<title>[^"]*)"')
INLINE_CODE = re.compile(r"(?<!`)(?P<ticks>`+)(?!`)(?P<code>.+?)(?<!`)(?P=ticks)(?!`)")
GENERATE = re.compile(r"^<!-- generate: .* -->$")


@dataclass
class Block:
    page: str  # path relative to docs/
    line: int  # 1-based line of the opening fence
    language: str
    title: str | None
    code: str
    container: str | None  # the admonition it sits in: its kind and title, e.g. 'success "Solution"'
    follows_previous: bool  # only blank lines between the previous block's end and this one

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def pages() -> list[Path]:
    """Every Markdown page of the site (the API reference pages included)."""
    return sorted(DOCS.rglob("*.md"))


def page_name(path: Path) -> str:
    return path.resolve().relative_to(DOCS).as_posix()


def blocks(path: Path) -> list[Block]:
    """Every fenced code block of a page, in order."""
    lines = path.read_text().splitlines()
    found: list[Block] = []
    containers: list[tuple[int, str]] = []  # open admonitions: (indent, description)
    last_end = -2
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.strip():
            indent = len(line) - len(line.lstrip(" "))
            while containers and indent <= containers[-1][0]:
                containers.pop()
        admonition = ADMONITION.match(line)
        if admonition:
            description = admonition["kind"] + (f' "{admonition["title"]}"' if admonition["title"] else "")
            containers.append((len(admonition["indent"]), description))
        fence = FENCE.match(line)
        if not fence:
            index += 1
            continue
        indent, marker, info = len(fence["indent"]), fence["fence"], fence["info"].strip()
        closing = re.compile(rf"^ {{0,{indent}}}{re.escape(marker[0])}{{{len(marker)},}}\s*$")
        end = index + 1
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        code = "\n".join(text[indent:] if text[:indent].strip() == "" else text for text in lines[index + 1 : end])
        between = lines[last_end + 1 : index]
        title = TITLE.search(info)
        found.append(
            Block(
                page=page_name(path),
                line=index + 1,
                language=info.split()[0].lstrip("{.") if info else "",
                title=title["title"] if title else None,
                code=code + "\n",
                container=containers[-1][1] if containers else None,
                follows_previous=bool(found) and all(not text.strip() for text in between),
            )
        )
        last_end = end
        index = end + 1
    return found


def prose(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of every line outside fenced blocks and generate directives."""
    lines = path.read_text().splitlines()
    inside: set[int] = set()
    for block in blocks(path):
        start = block.line - 1
        inside.update(range(start, start + block.code.count("\n") + 2))
    return [
        (number + 1, text)
        for number, text in enumerate(lines)
        if number not in inside and not GENERATE.match(text.strip())
    ]


def inline_code(path: Path) -> list[tuple[int, str]]:
    """(line number, code) of every inline code span outside fenced blocks."""
    return [(number, match["code"].strip()) for number, text in prose(path) for match in INLINE_CODE.finditer(text)]


def python_blocks_with_output(path: Path) -> list[tuple[Block, Block | None]]:
    """Each Python block of a page, with the "output" block that follows it (None when it shows no output)."""
    page_blocks = blocks(path)
    pairs = []
    for index, block in enumerate(page_blocks):
        if block.language != "python":
            continue
        following = page_blocks[index + 1] if index + 1 < len(page_blocks) else None
        shown = following if following and following.title == "output" and following.follows_previous else None
        pairs.append((block, shown))
    return pairs


def console_commands(block: Block) -> list[tuple[str, str]]:
    """(command, the output shown under it) for each ``$ `` line of a console block."""
    sessions: list[tuple[str, list[str]]] = []
    for line in block.code.splitlines():
        if line.startswith("$ "):
            sessions.append((line[2:], []))
        elif sessions:
            sessions[-1][1].append(line)
    return [(command, "\n".join(output).strip("\n")) for command, output in sessions]
