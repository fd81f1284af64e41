"""Bedrock quotas as bedrock-top sees them: what Service Quotas and the Bedrock control plane
say (``QuotaCatalog``), and which limits apply to one model (``ModelQuotas``).

Pure data, shared by the fetcher (``quota_fetch``), the matcher (``quota_match``), the usage
figures (``quota_usage``) and every output. No I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

SERVICE_CODE: Final = "bedrock"

# What a quota limits: tokens per minute, requests per minute, tokens per day.
QuotaKind = Literal["tpm", "rpm", "tpd"]
QUOTA_KINDS: Final[tuple[QuotaKind, ...]] = ("tpm", "rpm", "tpd")
# Whose traffic a per-model quota counts: calls on the base model id (on-demand), through a
# geographic inference profile (us., eu., apac., jp., ...) or through a global. profile.
# "account": the account-wide daily quota ("Cross-Model Max Tokens Per Day").
Scope = Literal["on-demand", "cross-region", "global", "account"]


@dataclass(frozen=True, slots=True)
class ServiceQuota:
    """One quota of service code ``bedrock`` (a ``ServiceQuota`` of the Service Quotas API).

    ``applied``: the value came from ListServiceQuotas (the account's own value); False: only
    the AWS default is known (ListAWSDefaultServiceQuotas), which is what applies to a quota
    the account never changed.
    """

    code: str
    name: str
    value: float
    unit: str = "None"
    adjustable: bool = False
    global_quota: bool = False
    applied: bool = False


@dataclass(frozen=True, slots=True)
class FoundationModel:
    """A ``modelSummaries`` entry of bedrock:ListFoundationModels (the fields we use)."""

    model_id: str  # "anthropic.claude-3-haiku-20240307-v1:0"
    model_name: str  # "Claude 3 Haiku"
    provider_name: str  # "Anthropic"


@dataclass(frozen=True, slots=True)
class InferenceProfile:
    """An ``inferenceProfileSummaries`` entry of bedrock:ListInferenceProfiles.

    ``kind`` is ``SYSTEM_DEFINED`` (a cross-Region profile such as ``us.anthropic...``) or
    ``APPLICATION`` (made by a user, pointing at a model or at a system profile).
    """

    profile_id: str
    profile_arn: str
    kind: str
    model_arns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuotaCatalog:
    """Everything read for one account and region, as cached on disk."""

    region: str
    account: str | None
    fetched_at: float  # epoch seconds
    quotas: tuple[ServiceQuota, ...] = ()
    models: tuple[FoundationModel, ...] = ()
    profiles: tuple[InferenceProfile, ...] = ()
    # Why the inference profiles could not be read ("": they were): application profiles
    # then match no quota, and such a catalogue is not cached.
    profiles_error: str = ""


@dataclass(frozen=True, slots=True)
class ModelQuotas:
    """The limits that apply to one model id (None: no such quota known for it)."""

    tpm: ServiceQuota | None = None
    rpm: ServiceQuota | None = None
    tpd: ServiceQuota | None = None

    def __bool__(self) -> bool:
        return self.tpm is not None or self.rpm is not None or self.tpd is not None

    def of(self, kind: QuotaKind) -> ServiceQuota | None:
        return {"tpm": self.tpm, "rpm": self.rpm, "tpd": self.tpd}[kind]


@dataclass(frozen=True, slots=True)
class QuotaReport:
    """One line of ``bedrock-top quotas``: a quota, what kind it is, and the model ids it was
    matched to, or why none was (``reason``)."""

    quota: ServiceQuota
    kind: QuotaKind | None  # None: not a per-model TPM/RPM/TPD quota bedrock-top reads
    scope: Scope | None
    model_name: str | None  # the "for ..." part of the name
    model_ids: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class QuotaState:
    """What the monitor knows about quotas in one region right now.

    ``error`` is a one-line status (the missing IAM action, throttling, unreachable) when the
    latest attempt failed; the quotas of an earlier success (or the disk cache) stay in use.
    ``overrides`` and ``burndown_overrides`` are the config's (``[quotas]``, ``[burndown]``).
    """

    catalog: QuotaCatalog | None = None
    error: str | None = None
    overrides: dict[str, str] = field(default_factory=dict)
    burndown_overrides: dict[str, int] = field(default_factory=dict)
