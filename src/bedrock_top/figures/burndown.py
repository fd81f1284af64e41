"""Output-token burndown: how many quota tokens one output token costs.

Bedrock settles a request's TPM/TPD charge at InputTokenCount + CacheWriteInputTokenCount +
burndown x OutputTokenCount (cache reads are free). ``EstimatedTPMQuotaUsage`` already
includes the factor; a model that does not publish it needs this table. Pure, no I/O.

Source: "How tokens are counted in Amazon Bedrock",
https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-token-burndown.html

What is verified and what is not (read second-hand: the page itself could not be fetched here,
only AWS copies and quotations of it):

- 5x for Anthropic Claude 3.7 Sonnet, Sonnet 4, Opus 4, Sonnet 4.5 (the page's own list in
  AWS's cross-Region inference docs and blog posts, 2025), Haiku 4.5 (AWS blog) and the other
  Claude 4.x up to 4.7 (later page text: "for all other Anthropic models version 4.7 and
  below, the burndown is 5x"); the AWS sample TPM/RPM dashboard registry agrees model by
  model (Opus 4.1, Opus 4.5, Sonnet 4.6, Opus 4.6 at 5).
- 15x for Claude 4.8 and 10x for Claude Sonnet 5, Opus 5, Opus 5.5 and Fable 5.1: later
  page text quoted by two independent projects; the model ids are assumed to follow the
  usual ``anthropic.claude-<family>-<major>-<minor>`` pattern.
- 10x for OpenAI GPT-5.6 Sol/Terra/Luna on bedrock-runtime: one quotation only, ids guessed.
- 1x for Claude 3 Haiku, 3 Sonnet, 3 Opus, 3.5 Haiku and 3.5 Sonnet (v1 and v2): the older
  page listed only the models above as 5x and the AWS sample registry gives these 1; the
  later "version 4.7 and below" wording could be read to include them. Unverified either
  way; ``burndown_overrides`` in the config settles it for an account.
- 1x for every other model ("For all other models, the burndown rate is 1:1").

Bedrock Mantle quotas count input and output separately; no burndown applies there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.quota_match import resolve_model
from bedrock_top.figures.quotas import QuotaCatalog

__all__ = ["BURNDOWN_TABLE", "BurndownRule", "burndown", "burndown_of"]

SOURCE_URL: Final = (
    "https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-token-burndown.html"
)
DEFAULT_FACTOR: Final = 1
# What may follow a Claude version in a model id: the end, a date, a "-vN" or ":N" revision.
# It keeps "claude-opus-4-1" apart from "claude-sonnet-4-20250514" and "claude-opus-4-8".
_END: Final = r"(?=$|:|-v\d|-\d{8})"


@dataclass(frozen=True, slots=True)
class BurndownRule:
    """Output tokens of the base model ids ``pattern`` matches (``re.match``, from the start)
    cost ``factor`` quota tokens each."""

    pattern: str
    factor: int
    note: str

    def matches(self, base_id: str) -> bool:
        return _compiled(self.pattern).match(base_id) is not None


# First match wins, so the narrow rules come first. See the module docstring for sources.
BURNDOWN_TABLE: Final[tuple[BurndownRule, ...]] = (
    BurndownRule(rf"anthropic\.claude-[a-z]+-4-8{_END}", 15, "Claude 4.8 (later doc text)"),
    BurndownRule(
        rf"anthropic\.claude-(?:sonnet-5|opus-5(?:-5)?|fable-5-1){_END}",
        10,
        "Claude Sonnet 5, Opus 5, Opus 5.5, Fable 5.1 (later doc text; ids assumed)",
    ),
    BurndownRule(
        r"openai\.gpt-5-6-(?:sol|terra|luna)\b",
        10,
        "OpenAI GPT-5.6 Sol/Terra/Luna on bedrock-runtime (one quotation; ids guessed)",
    ),
    BurndownRule(
        rf"anthropic\.claude-(?:opus|sonnet|haiku)-4(?:-[0-7])?{_END}",
        5,
        "Claude 4 to 4.7: Sonnet 4, Opus 4, 4.1, Sonnet/Haiku/Opus 4.5, 4.6, 4.7",
    ),
    BurndownRule(rf"anthropic\.claude-3-7-sonnet{_END}", 5, "Claude 3.7 Sonnet"),
)

_CACHE: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> re.Pattern[str]:
    found = _CACHE.get(pattern)
    if found is None:
        found = _CACHE[pattern] = re.compile(pattern)
    return found


def _override(model_id: str, base_id: str, overrides: Mapping[str, int]) -> int | None:
    """The factor of the longest override prefix of the ModelId or of its base model id."""
    matching = [
        (len(prefix), factor)
        for prefix, factor in overrides.items()
        if prefix and (model_id.startswith(prefix) or base_id.startswith(prefix))
    ]
    return max(matching)[1] if matching else None


def burndown(model_id: str, overrides: Mapping[str, int] | None = None) -> int:
    """Quota tokens per output token for a base model id or a ``us.``/``eu.``/``global.``...
    profile id (the prefix is dropped); 1 for a model not in the table.

    ``overrides`` map a model-id prefix to a factor (``burndown_overrides`` in the config) and
    win over the table; the longest prefix matching either the id as given or its base id
    applies. An application profile id says nothing about its model: resolve it first
    (``burndown_of``).
    """
    base_id = parse_model_id(model_id).base_id
    if overrides:
        factor = _override(model_id, base_id, overrides)
        if factor is not None:
            return factor
    for rule in BURNDOWN_TABLE:
        if rule.matches(base_id):
            return rule.factor
    return DEFAULT_FACTOR


def burndown_of(
    catalog: QuotaCatalog | None, model_id: str, overrides: Mapping[str, int] | None = None
) -> int:
    """``burndown`` of the model a ModelId is counted against: an application inference
    profile is looked up in the catalogue (when known) and its foundation model used. An
    override written for the profile's own id still wins."""
    info = parse_model_id(model_id)
    if catalog is not None and info.kind == "application-profile":
        if overrides and (factor := _override(model_id, info.base_id, overrides)) is not None:
            return factor
        target = resolve_model(catalog, model_id)
        if target is not None:
            return burndown(target[0], overrides)
    return burndown(model_id, overrides)
