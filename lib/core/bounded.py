"""Reading what strangers write, within bounds: YAML with bounded size, alias expansion and nesting, and
short texts for values named in messages.

``yaml.safe_load`` refuses arbitrary objects but not a "billion laughs": aliases share nodes while
loading, so a few hundred bytes load in milliseconds into a structure that expands to hundreds of
millions of entries the moment any code walks it (``repr`` in an error message, ``json.dumps``, a
recursive check) and then exhausts memory. ``load_yaml`` composes the node graph first, measures what
it would expand to, and refuses anything over the bounds before a single Python object is built.
``brief`` names a value in a message without ever printing an unbounded ``repr``.

No I/O here; callers read the bytes (and bound what they read).
"""

from __future__ import annotations

import itertools
import re
import sys
from typing import Any

import yaml

MAX_YAML_BYTES = 1 << 20  # a model card's metadata or an .eval_results file is a few kilobytes
MAX_YAML_NODES = 200_000  # nodes after alias expansion
MAX_YAML_DEPTH = 64
_BRACKETS = re.compile(r"[\[\]{}]")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: far faster, same types


class YamlRefused(ValueError):
    """YAML that is not read: too large, too deep, expanding too far, or malformed. The message is short."""


def load_yaml(
    text: str | bytes,
    max_bytes: int = MAX_YAML_BYTES,
    max_nodes: int = MAX_YAML_NODES,
    max_depth: int = MAX_YAML_DEPTH,
) -> Any:
    """The YAML document in ``text`` (safe types only), or YamlRefused saying why it was not read."""
    if len(text) > max_bytes:
        raise YamlRefused(f"larger than the {max_bytes // 1024} KiB limit")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlRefused(f"not UTF-8 text (byte {exc.start})") from None
    if _bracket_depth(text) > max_depth:  # YAML scanners are quadratic in flow nesting: refuse first
        raise YamlRefused(f"nested deeper than {max_depth} levels")
    loader = _LOADER(text)
    try:
        _check_depth(text, max_depth)  # before composing, which recurses once per level
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node, max_nodes, max_depth)
        return loader.construct_document(node)
    except YamlRefused:
        raise
    except yaml.YAMLError as exc:
        raise YamlRefused(f"not valid YAML: {' '.join(str(exc).split())[:200]}") from None
    except RecursionError:
        raise YamlRefused(f"nested deeper than {max_depth} levels") from None
    except ValueError:  # int() of more than 4300 digits
        raise YamlRefused(f"a number has more than {sys.get_int_max_str_digits() or 4300} digits") from None
    finally:
        loader.dispose()


def _check_depth(text: str, max_depth: int) -> None:
    """Refuse a document nested deeper than ``max_depth``, from the parser's events (no recursion)."""
    events = _LOADER(text)
    depth = 0
    try:
        while events.check_event():
            event = events.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                depth += 1
                if depth > max_depth:
                    raise YamlRefused(f"nested deeper than {max_depth} levels")
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
    finally:
        events.dispose()


def _bracket_depth(text: str) -> int:
    """The deepest nesting of ``[`` and ``{`` (brackets inside quoted text count too: an upper bound)."""
    opening = text.count("[") + text.count("{")
    if opening <= MAX_YAML_DEPTH:
        return opening
    steps = (1 if char in "[{" else -1 for char in _BRACKETS.findall(text))
    return max(itertools.accumulate(steps), default=0)


def _measure(root: yaml.Node, max_nodes: int, max_depth: int) -> None:
    """Refuse a node graph that expands to more than ``max_nodes`` nodes, nests deeper than
    ``max_depth`` or refers to itself. Iterative, and linear in the distinct nodes (aliases share)."""
    sizes: dict[int, int] = {}
    ancestors: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, children_done = stack.pop()
        key = id(node)
        if children_done:
            ancestors.discard(key)
            total = 1 + sum(sizes[id(child)] for child in _children(node))
            if total > max_nodes:
                raise YamlRefused(
                    f"expands to more than {max_nodes:,} values (YAML aliases repeat a part many times)"
                )
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in ancestors:
            raise YamlRefused("an alias refers to a node that contains it (a recursive structure)")
        if depth > max_depth:
            raise YamlRefused(f"nested deeper than {max_depth} levels")
        ancestors.add(key)
        stack.append((node, depth, True))
        stack.extend((child, depth + 1, False) for child in _children(node) if id(child) not in sizes)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def brief(value: Any, limit: int = 60) -> str:
    """A short, safe text for a value named in a message: never a whole unbounded repr.

    A 5,000-digit integer cannot even be turned into text by ``repr`` (Python refuses), a string may be
    megabytes long and hold lone surrogates, and a container's repr walks the whole tree (which an
    alias bomb makes astronomically large).
    """
    if isinstance(value, bool) or value is None or isinstance(value, float):
        text = repr(value)
    elif isinstance(value, int):
        bits = value.bit_length()
        text = repr(value) if bits <= 64 else f"an integer of about {int(bits * 0.30103) + 1} digits"
    elif isinstance(value, str):
        text = repr(value[:limit]) + ("..." if len(value) > limit else "")
    elif isinstance(value, (dict, list, tuple, set)):
        text = f"a {type(value).__name__} of {len(value)} items"
    else:
        text = f"a {type(value).__name__}"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
