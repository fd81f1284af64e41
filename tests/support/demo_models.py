"""Made-up models beyond the demo's own, for tests and benchmarks at scale (hundreds or
thousands of models), and the raw samples behind the demo's statistics (a test oracle).
"""

from __future__ import annotations

import math
import random
from datetime import datetime
from typing import Final

from bedrock_top.demo import data as dd
from bedrock_top.demo.cloudwatch import DEFAULT_PROFILES, DemoCloudWatch

# (geo prefix, provider, family) of the extra models made up for benchmarks.
_SYNTHETIC: Final = (
    ("us", "meta", "llama3-1-8b-instruct"),
    ("eu", "mistral", "mistral-small-2402"),
    ("apac", "anthropic", "claude-3-5-haiku-20241022"),
    ("", "amazon", "nova-lite"),
    ("global", "cohere", "command-r"),
    ("us", "deepseek", "v3"),
    ("", "ai21", "jamba-1-5-mini"),
    ("jp", "qwen", "qwen3-32b"),
    ("eu", "amazon", "titan-text-express"),
    ("us", "writer", "palmyra-x5"),
)


def synthetic_profiles(seed: int, count: int) -> tuple[dd.ModelProfile, ...]:
    """The demo's models, truncated or extended with made-up ones to ``count``."""
    extra = []
    for i in range(max(0, count - len(DEFAULT_PROFILES))):
        geo, provider, family = _SYNTHETIC[i % len(_SYNTHETIC)]
        rng = random.Random(dd.stable_seed(seed, "synthetic", i))
        streaming, latency = rng.random() < 0.7, rng.uniform(300, 8000)
        extra.append(
            dd.ModelProfile(
                f"{geo + '.' if geo else ''}{provider}.{family}-{i:04d}-v1:0",
                rate=math.exp(rng.uniform(math.log(0.5), math.log(40))),
                latency_ms=latency,
                ttft_ms=rng.uniform(0.1, 0.4) * latency if streaming else None,
                input_tokens=rng.randint(200, 4000),
                output_tokens=rng.randint(50, 1000),
                phase=rng.random(),
            )
        )
    return (DEFAULT_PROFILES + tuple(extra))[:count]


def demo_samples(
    cw: DemoCloudWatch, model_id: str, metric_name: str, start: datetime, end: datetime
) -> list[int]:
    """Every sample of a metric in [start, end) as visible now, ascending: the ground truth
    the demo's statistics are computed from."""
    lo, hi = math.floor(start.timestamp() / 60), math.ceil(end.timestamp() / 60)
    index, fields = cw.models.index(model_id), dd.METRIC_FIELDS[metric_name]
    return sorted(cw._request_samples(index, lo, hi, cw.clock(), fields))
