"""The demo account's Service Quotas, foundation models and inference profiles.

``DemoQuotaClients`` answers the five read calls ``quota_fetch`` makes (Service Quotas,
Bedrock control plane, STS) in boto3's response shapes, so ``--demo`` runs the real fetch,
name matching and usage code. A few limits are sized from the demo's own traffic when the
demo starts, so the picture is the same at any hour: the ``us.`` Claude Sonnet 4 profile runs
at ~95 % of its cross-Region TPM quota (and is throttled), others at 25-75 %.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from bedrock_top.demo.cloudwatch import ACCOUNT_ID, DemoCloudWatch
from bedrock_top.figures.quota_usage import minute_starts

# (model id, provider name, model name) as ListFoundationModels has them.
_MODELS: Final = (
    ("anthropic.claude-3-haiku-20240307-v1:0", "Anthropic", "Claude 3 Haiku"),
    ("anthropic.claude-sonnet-4-20250514-v1:0", "Anthropic", "Claude Sonnet 4"),
    ("anthropic.claude-sonnet-4-5-20250929-v1:0", "Anthropic", "Claude Sonnet 4.5"),
    ("anthropic.claude-opus-4-1-20250805-v1:0", "Anthropic", "Claude Opus 4.1"),
    ("amazon.titan-embed-text-v2:0", "Amazon", "Titan Text Embeddings V2"),
    ("amazon.nova-pro-v1:0", "Amazon", "Nova Pro"),
    ("amazon.nova-micro-v1:0", "Amazon", "Nova Micro"),
    ("amazon.nova-canvas-v1:0", "Amazon", "Nova Canvas"),
    ("meta.llama3-3-70b-instruct-v1:0", "Meta", "Llama 3.3 70B Instruct"),
    ("mistral.mistral-large-2407-v1:0", "Mistral AI", "Mistral Large (24.07)"),
    ("cohere.command-r-plus-v1:0", "Cohere", "Command R+"),
    ("deepseek.r1-v1:0", "DeepSeek", "DeepSeek-R1"),
    ("anthropic.claude-sonnet-4-6", "Anthropic", "Claude Sonnet 4.6"),
)
APP_PROFILE: Final = "x7k2p9q4m1z8"  # the demo's application profile, on Claude 3 Haiku
# (code, name, default value, model id whose traffic sizes it, target share of the limit).
# A fixed value where the model id is None. Applied values (the account asked for more) are
# marked in ``_APPLIED``.
_OD_TPM: Final = "On-demand model inference tokens per minute for "
_OD_RPM: Final = "On-demand model inference requests per minute for "
_CR_TPM: Final = "Cross-region model inference tokens per minute for "
_CR_RPM: Final = "Cross-region model inference requests per minute for "
_GL_TPM: Final = "Global cross-Region model inference tokens per minute for "
_TPD: Final = "Model invocation max tokens per day for "
_SONNET_4: Final = "us.anthropic.claude-sonnet-4-20250514-v1:0"
_QUOTAS: Final = (
    ("L-8CE99163", _OD_TPM + "Anthropic Claude 3 Haiku", 2_000_000,
     "anthropic.claude-3-haiku-20240307-v1:0", 0.45),
    ("L-2DC80978", _OD_RPM + "Anthropic Claude 3 Haiku", 1_000,
     "anthropic.claude-3-haiku-20240307-v1:0", 0.3),
    ("L-DCADBC78", _CR_TPM + "Anthropic Claude 3 Haiku", 4_000_000, None, 0.0),
    ("L-59759B4A", _CR_TPM + "Anthropic Claude Sonnet 4 V1", 200_000, _SONNET_4, 0.95),
    ("L-559DCC33", _CR_RPM + "Anthropic Claude Sonnet 4 V1", 200, _SONNET_4, 0.5),
    ("L-1D3E59A3", _TPD + "Anthropic Claude Sonnet 4 V1 (doubled for cross-region calls)",
     720_000_000, None, 0.0),
    ("L-27C57EE8", _GL_TPM + "Anthropic Claude Sonnet 4.5 V1", 500_000,
     "global.anthropic.claude-sonnet-4-5-20250929-v1:0", 0.55),
    ("L-4A6BFAB1", _CR_TPM + "Anthropic Claude Opus 4.1", 200_000, None, 0.0),
    ("L-6E888CC2", _CR_TPM + "Meta Llama 3.3 70B Instruct", 300_000,
     "us.meta.llama3-3-70b-instruct-v1:0", 0.72),
    ("L-7D5A1C0F", _CR_TPM + "Amazon Nova Pro", 2_000_000, "us.amazon.nova-pro-v1:0", 0.25),
    ("L-3A1F6B9E", _OD_TPM + "Amazon Nova Micro", 4_000_000, None, 0.0),
    ("L-E2F0A8D1", _OD_RPM + "Amazon Titan Text Embeddings V2", 6_000, None, 0.0),
    ("L-0B5E7C44", "Cross-Model Max Tokens Per Day", 2_000_000_000, None, 0.0),
    ("L-A2B3C4D5", "Batch inference job size (in GB)", 1, None, 0.0),
    ("L-F1E2D3C4", "Bedrock Mantle input tokens per minute for Anthropic Claude Sonnet 4.5",
     400_000, None, 0.0),
    # Mantle quotas of the demo's Mantle models: one named like the runtime quotas, one by
    # the Mantle model id (AWS does not document which; both are read).
    ("L-F1E2D3C5", "Bedrock Mantle input tokens per minute for Anthropic Claude Sonnet 4.6",
     120_000, None, 0.0),
    ("L-F1E2D3C6", "Bedrock Mantle output tokens per minute for Anthropic Claude Sonnet 4.6",
     40_000, None, 0.0),
    ("L-F1E2D3C7", "Bedrock Mantle input tokens per minute for anthropic.claude-opus-4-7",
     20_000_000, None, 0.0),
    ("L-F1E2D3C8", "Bedrock Mantle output tokens per minute for anthropic.claude-opus-4-7",
     4_000_000, None, 0.0),
)  # fmt: skip
_APPLIED: Final = frozenset({"L-8CE99163", "L-59759B4A", "L-27C57EE8"})
# CloudWatch's minutes settle within 2 minutes: the monitor counts a minute complete then.
_SETTLE_S: Final = 120


def nice_limit(value: float) -> float:
    """A limit as AWS would write it: two significant figures (640,000, 1,200,000)."""
    if value <= 0:
        return 1.0
    step = 10 ** max(0, math.floor(math.log10(value)) - 1)
    return float(math.ceil(value / step) * step)


class DemoQuotaClients:
    """Drop-in for the Service Quotas, Bedrock and STS clients ``quota_fetch`` uses."""

    def __init__(
        self,
        seed: int = 0,
        region: str = "us-east-1",
        clock: Callable[[], float] = time.time,
        cloudwatch: DemoCloudWatch | None = None,
    ) -> None:
        """``cloudwatch``: the demo backend the poller reads (sizing the quotas then warms
        its caches rather than computing the same hours twice); else one of our own."""
        self.region = region
        self._cloudwatch = cloudwatch or DemoCloudWatch(seed=seed, region=region, clock=clock)
        self._clock = cloudwatch.clock if cloudwatch is not None else clock
        self._values: dict[str, float] | None = None
        self._peaks: dict[str, tuple[float, float]] = {}  # model id -> its busiest minutes

    def _peak_per_minute(self, model_id: str) -> tuple[float, float]:
        found = self._peaks.get(model_id)
        if found is None:
            found = self._peaks[model_id] = self._read_peaks(model_id)
        return found

    def _read_peaks(self, model_id: str) -> tuple[float, float]:
        """The busiest minute of the last hour: (quota tokens, requests). Quota tokens are
        the estimate where the model publishes one, else input + output (burndown 1)."""
        # The very minutes the monitor reads its quota peak from, so the sizing holds.
        starts = minute_starts(int(self._clock()) - _SETTLE_S)
        names = ("EstimatedTPMQuotaUsage", "InputTokenCount", "OutputTokenCount", "Invocations")
        queries = [
            {
                "Id": f"q{i}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Bedrock",
                        "MetricName": name,
                        "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
            for i, name in enumerate(names)
        ]
        answer = self._cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=datetime.fromtimestamp(starts[0], UTC),
            EndTime=datetime.fromtimestamp(starts[-1] + 60, UTC),
        )
        per_minute: dict[str, dict[datetime, float]] = {
            r["Id"]: dict(zip(r["Timestamps"], r["Values"], strict=True))
            for r in answer["MetricDataResults"]
        }
        estimate, inputs, outputs, requests = (per_minute.get(f"q{i}", {}) for i in range(4))
        if estimate:
            tokens = max(estimate.values())
        else:
            minutes = set(inputs) | set(outputs)
            tokens = max((inputs.get(t, 0.0) + outputs.get(t, 0.0) for t in minutes), default=0)
        return tokens, max(requests.values(), default=0.0)

    def values(self) -> dict[str, float]:
        """Each quota's value: fixed, or sized from the demo traffic (once per demo run)."""
        if self._values is None:
            self._values = {}
            for code, name, default, model_id, share in _QUOTAS:
                value = float(default)
                if model_id is not None:
                    tokens, requests = self._peak_per_minute(model_id)
                    used = requests if "requests per minute" in name else tokens
                    value = nice_limit(used / share) if used else value
                self._values[code] = value
        return self._values

    def _quota(self, code: str, name: str, value: float) -> dict[str, Any]:
        return {
            "ServiceCode": "bedrock",
            "ServiceName": "Amazon Bedrock",
            "QuotaArn": f"arn:aws:servicequotas:{self.region}:{ACCOUNT_ID}:bedrock/{code}",
            "QuotaCode": code,
            "QuotaName": name,
            "Value": value,
            "Unit": "None",
            "Adjustable": True,
            "GlobalQuota": False,
        }

    # --- Service Quotas --------------------------------------------------------------------

    def list_aws_default_service_quotas(self, **_: Any) -> dict[str, Any]:
        return {"Quotas": [self._quota(c, n, float(d)) for c, n, d, _, _ in _QUOTAS]}

    def list_service_quotas(self, **_: Any) -> dict[str, Any]:
        values = self.values()
        return {
            "Quotas": [
                self._quota(code, name, values[code])
                for code, name, _, model_id, _ in _QUOTAS
                if code in _APPLIED or model_id is not None
            ]
        }

    # --- Bedrock control plane -------------------------------------------------------------

    def list_foundation_models(self, **_: Any) -> dict[str, Any]:
        return {
            "modelSummaries": [
                {
                    "modelArn": f"arn:aws:bedrock:{self.region}::foundation-model/{model_id}",
                    "modelId": model_id,
                    "modelName": name,
                    "providerName": provider,
                }
                for model_id, provider, name in _MODELS
            ]
        }

    def list_inference_profiles(self, **kwargs: Any) -> dict[str, Any]:
        if kwargs.get("typeEquals") == "APPLICATION":
            arn = f"arn:aws:bedrock:{self.region}:{ACCOUNT_ID}:application-inference-profile"
            target = (
                f"arn:aws:bedrock:{self.region}::foundation-model/"
                "anthropic.claude-3-haiku-20240307-v1:0"
            )
            summaries = [
                {
                    "inferenceProfileId": APP_PROFILE,
                    "inferenceProfileArn": f"{arn}/{APP_PROFILE}",
                    "inferenceProfileName": "support-bot",
                    "type": "APPLICATION",
                    "status": "ACTIVE",
                    "models": [{"modelArn": target}],
                }
            ]
        else:
            summaries = []
            for model_id, _, _ in _MODELS:
                for geo in ("us", "global"):
                    profile = f"{geo}.{model_id}"
                    regions = ("us-east-1", "us-east-2", "us-west-2") if geo == "us" else ("",)
                    summaries.append(
                        {
                            "inferenceProfileId": profile,
                            "inferenceProfileArn": f"arn:aws:bedrock:{self.region}:{ACCOUNT_ID}:"
                            f"inference-profile/{profile}",
                            "type": "SYSTEM_DEFINED",
                            "status": "ACTIVE",
                            "models": [
                                {"modelArn": f"arn:aws:bedrock:{r}::foundation-model/{model_id}"}
                                for r in regions
                            ],
                        }
                    )
        return {"inferenceProfileSummaries": summaries}

    # --- STS -------------------------------------------------------------------------------

    def get_caller_identity(self, **_: Any) -> dict[str, Any]:
        return {
            "Account": ACCOUNT_ID,
            "Arn": f"arn:aws:iam::{ACCOUNT_ID}:user/demo",
            "UserId": "AIDADEMO",
        }
