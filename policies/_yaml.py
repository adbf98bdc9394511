"""YAML with line numbers: every key and list item of a document keeps the line it was on.

Strict files (packs, questionnaires, waivers) must name the line of a bad key, so the
document is composed into nodes first, their marks recorded by path, and only then
constructed into plain Python values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from compliance.errors import PolicyError

KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Marked:
    """A parsed YAML document and the 1-based line of every key path in it."""

    data: Any
    lines: dict[KeyPath, int]
    path: Path
    text: str

    def line_of(self, loc: KeyPath) -> int | None:
        """The line of `loc`, or of its longest prefix that has one."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


def dotted(loc: KeyPath) -> str:
    """`('checks', 2, 'params', 'x')` → `checks[2].params.x`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def policy_error(
    path: Path | str, line: int | None, key: KeyPath | str | None, message: str
) -> PolicyError:
    """A PolicyError whose text names the file, the line and the key."""
    key_text = key if isinstance(key, str) or key is None else dotted(key)
    where = f"line {line}: " if line is not None else ""
    err = PolicyError(where + message, path=path, field=key_text or None)
    err.line = line  # type: ignore[attr-defined]
    return err


def _walk(node: yaml.Node, loc: KeyPath, lines: dict[KeyPath, int], path: Path) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise policy_error(
                    path, line, loc, "a key must be a plain word, not a list or mapping"
                )
            key = str(key_node.value)
            if key in seen:
                raise policy_error(
                    path, line, (*loc, key), f"duplicate key (first given on line {seen[key]})"
                )
            seen[key] = line
            lines[(*loc, key)] = line
            _walk(value_node, (*loc, key), lines, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*loc, i)] = item.start_mark.line + 1
            _walk(item, (*loc, i), lines, path)


def _unconstructible(node: yaml.Node, loc: KeyPath) -> tuple[int, KeyPath] | None:
    """The line and key path of the first scalar that YAML parses but cannot make a value
    of (a date such as 2026-02-30), or None."""
    if isinstance(node, yaml.ScalarNode):
        try:
            yaml.SafeLoader("").construct_object(node, deep=True)
        except ValueError:
            return node.start_mark.line + 1, loc
        return None
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:  # a key can be a date too: `2026-02-30: x`
            if _unconstructible(key_node, loc) is not None:
                return key_node.start_mark.line + 1, (*loc, str(key_node.value))
        children = [(str(k.value), v) for k, v in node.value]
    elif isinstance(node, yaml.SequenceNode):
        children = list(enumerate(node.value))  # type: ignore[arg-type]
    else:
        return None
    for key, child in children:
        found = _unconstructible(child, (*loc, key))
        if found is not None:
            return found
    return None


def load_marked(path: Path | str, *, what: str = "policy file") -> Marked:
    """Read a YAML file; malformed YAML is a PolicyError naming the file and the line."""
    p = Path(path)
    if not p.is_file():
        raise PolicyError(f"no such {what}", path=p)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read the {what} ({exc})", path=p) from exc
    return parse_marked(text, path=p)


def parse_marked(text: str, *, path: Path) -> Marked:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise policy_error(path, 1, None, "the file is empty")
        lines: dict[KeyPath, int] = {}
        _walk(node, (), lines, path)
        try:
            data = loader.construct_document(node)
        except ValueError as exc:  # a well-formed scalar that is no value: 2026-13-45
            line, loc = _unconstructible(node, ()) or (None, ())
            raise policy_error(path, line, loc or None, f"not a valid value: {exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = None if mark is None else mark.line + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        detail = f"{context}, {problem}" if context else str(problem)
        raise policy_error(path, line, None, f"not valid YAML: {detail}") from exc
    finally:
        loader.dispose()
    return Marked(data=data, lines=lines, path=path, text=text)
