"""CloudWatch's GetMetricData limits, written here independently of the product's planner so
the tests check its calls against the service's rules, not against its own constants."""

from __future__ import annotations

import re
from typing import Final

from bedrock_top.cloudwatch.plan import Call, PlanError

MAX_QUERIES: Final = 500
MAX_DATAPOINTS: Final = 100_800
QUERY_ID: Final = re.compile(r"^[a-z][A-Za-z0-9_]*$")


def validate_call(call: Call) -> None:
    """Raise PlanError where CloudWatch would reject the call."""
    ids = list(call.queries)
    if len(ids) > MAX_QUERIES:
        raise PlanError(f"{len(ids)} queries in one call; the limit is {MAX_QUERIES}")
    if len(set(ids)) != len(ids):
        raise PlanError("query Ids are not unique")
    for qid in ids:
        if not QUERY_ID.match(qid):
            raise PlanError(f"query Id {qid!r} does not match {QUERY_ID.pattern}")
    if call.datapoints > MAX_DATAPOINTS:
        raise PlanError(f"{call.datapoints} datapoints in one call; the limit is {MAX_DATAPOINTS}")
