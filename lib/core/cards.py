"""A model card's YAML front matter, read by one rule for the whole app.

The submission rules (license, card substance) and the Benchmarks page (``model-index`` results) both
read README front matter through ``front_matter``. The block is found by huggingface_hub's own pattern
(``huggingface_hub.repocard.REGEX_YAML_BLOCK``, what ``ModelCard`` and ``metadata_load`` use: leading
blank lines, CRLF and a trailing ``---`` with spaces are accepted as the Hub accepts them), so a card
reads here as it reads on the Hub. The block is parsed by ``lib.core.bounded.load_yaml``, never by
huggingface_hub's ``yaml.safe_load``: a card is a stranger's file, and an alias bomb in it would
exhaust memory there. No I/O here.
"""

from __future__ import annotations

from typing import Any

from lib.core.bounded import YamlRefused, load_yaml

__all__ = ["YamlRefused", "front_matter"]


def front_matter(text: str) -> tuple[dict[str, Any] | None, str]:
    """The card's metadata (None when it has no front matter, or the block is not a mapping) and its body.

    Raises YamlRefused when the block is too large, expands too far (aliases), nests too deep or is
    malformed.
    """
    from huggingface_hub.repocard import REGEX_YAML_BLOCK  # the Hub's rule; imported on first card

    match = REGEX_YAML_BLOCK.search(text)
    if match is None:
        return None, text
    data = load_yaml(match.group(2))
    return (data if isinstance(data, dict) else None), text[match.end() :]
