"""An in-process moto server speaking CloudWatch over HTTP on 127.0.0.1.

moto 5.2 computes only Sum/Average/Minimum/Maximum/SampleCount; for ``Stat="p90"`` it returns
None and its serializer fails (HTTP 500). Real CloudWatch answers percentiles, so the tests
teach moto nearest-rank percentiles here, in the test process only. Product code must work
against real CloudWatch and never learns that it talks to moto.
"""

from __future__ import annotations

import logging
import math
import re
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import SupportsFloat

from moto.cloudwatch import models as cw_models
from moto.server import ThreadedMotoServer

__all__ = [
    "RunningMotoServer",
    "install_percentile_support",
    "nearest_rank_moto",
    "start_moto_server",
]

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?|100(?:\.0+)?)$")
_PATCH_MARK = "_bedrock_top_percentiles"

_GetStat = Callable[[cw_models.Statistics, str], SupportsFloat | None]


def nearest_rank_moto(values: list[float], stat: str) -> float | None:
    """Nearest-rank percentile of ``values`` for a ``pNN`` / ``pNN.N`` statistic name.

    Rank is ceil(p/100 * n) (1-indexed) over the ascending values, computed with exact
    fractions so that, e.g., p90 of 10 samples is the 9th value and never the 10th.
    """
    match = _PERCENTILE.match(stat)
    if match is None:
        raise ValueError(f"not a percentile statistic: {stat!r}")
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(Fraction(match.group(1)) * len(ordered) / 100)
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def install_percentile_support() -> None:
    """Make moto's CloudWatch answer ``pNN`` statistics in this process; idempotent.

    Percentiles use the raw single values of the bucket (what ``put_metric_data`` stored);
    the threaded server runs in this process, so the patch reaches its requests too.
    """
    statistics = cw_models.Statistics
    if getattr(statistics.get_statistics_for_type, _PATCH_MARK, False):
        return
    original: _GetStat = statistics.get_statistics_for_type

    def get_statistics_for_type(self: cw_models.Statistics, stat: str) -> SupportsFloat | None:
        if _PERCENTILE.match(stat):
            return nearest_rank_moto(self.metric_single_values_list, stat)
        return original(self, stat)

    setattr(get_statistics_for_type, _PATCH_MARK, True)
    statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]


@dataclass
class RunningMotoServer:
    """A started moto server; ``endpoint_url`` is what boto3 gets as ``endpoint_url=``."""

    endpoint_url: str
    _server: ThreadedMotoServer = field(repr=False)

    def reset(self) -> None:
        """Forget every metric and resource, so each test starts from an empty account."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        self._server.stop()


def start_moto_server() -> RunningMotoServer:
    """Start moto on a free loopback port (never 0.0.0.0) with percentile support."""
    install_percentile_support()
    # werkzeug logs one line per request; thousands of put_metric_data calls drown the output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return RunningMotoServer(endpoint_url=f"http://{host}:{port}", _server=server)
