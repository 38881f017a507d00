"""One front-matter rule for model cards: the submission rules and the Benchmarks page read a card alike.

The rule is the Hub's (huggingface_hub's REGEX_YAML_BLOCK), so cards the Hub reads are read here too:
a blank line before the block, Windows line ends, spaces after the closing ``---``.
"""

from __future__ import annotations

import pytest

from lib.core.bounded import YamlRefused
from lib.core.cards import front_matter
from lib.hub.results import parse_model_card
from lib.queue.model_sources import card_license, split_front_matter

BLOCK = """---
license: apache-2.0
model-index:
- name: m
  results:
  - task: {type: text-generation}
    dataset: {type: cais/mmlu, name: MMLU, config: all}
    metrics: [{type: accuracy, value: 0.5}]
---
# A card

Body text.
"""

VARIANTS = {
    "plain": BLOCK,
    "blank line first": "\n" + BLOCK,
    "blank lines and spaces first": "\n  \n" + BLOCK,
    "windows line ends": BLOCK.replace("\n", "\r\n"),
    "spaces after the closing dashes": BLOCK.replace("\n---\n# A card", "\n---   \n# A card"),
}


@pytest.mark.parametrize("text", VARIANTS.values(), ids=VARIANTS.keys())
def test_submission_rules_and_benchmarks_page_read_the_same_card(text):
    card, body = split_front_matter(text)
    assert card_license(card) == "apache-2.0"
    assert body.strip().startswith("# A card") and "---" not in body
    results, problems = parse_model_card("org/m", text)
    assert not problems and [(r.benchmark, r.value) for r in results] == [("cais/mmlu", 0.5)]


def test_a_card_without_front_matter_is_all_body():
    assert front_matter("# Just a card\n\nno metadata") == (None, "# Just a card\n\nno metadata")
    assert split_front_matter("# Just a card") == ({}, "# Just a card")
    assert parse_model_card("org/m", "# Just a card") == ([], [])


def test_an_alias_bomb_in_a_card_is_refused_by_both_readers():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(9):
        prev, name = chr(97 + i), chr(98 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    bomb = "---\n" + "\n".join(lines) + "\nlicense: mit\n---\nbody\n"
    with pytest.raises(YamlRefused):
        front_matter(bomb)
    assert split_front_matter(bomb) == ({}, bomb)  # the submission rules see no metadata
    results, problems = parse_model_card("org/m", bomb)
    assert results == [] and len(problems) == 1 and "front matter not read" in problems[0].reason
