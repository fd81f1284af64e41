"""Shared test support: AWS isolation, the moto CloudWatch server, the Bedrock truth model.

The environment is isolated at import time of ``tests/conftest.py`` (not in a fixture) so
that every boto3 client the tests create, and every subprocess they start, inherits dummy
credentials and can never reach a real AWS account or the instance-metadata endpoint.
"""

from __future__ import annotations

import os

__all__ = ["AWS_TEST_ENV", "isolate_aws_environment"]

# Under a directory that does not exist, so no profile or credential file is ever read.
_MISSING = "/nonexistent/bedrock-top-tests/aws"

AWS_TEST_ENV: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": f"{_MISSING}/config",
    "AWS_SHARED_CREDENTIALS_FILE": f"{_MISSING}/credentials",
}

# Variables that would let a developer's shell redirect the tests to a real account or endpoint.
_UNSET = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_CLOUDWATCH",
    "AWS_ENDPOINT_URL_SERVICE_QUOTAS",
    "AWS_ENDPOINT_URL_BEDROCK",
    "AWS_ENDPOINT_URL_STS",
    "AWS_BEARER_TOKEN_BEDROCK",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def isolate_aws_environment() -> None:
    """Point boto3 at dummy credentials only; idempotent."""
    os.environ.update(AWS_TEST_ENV)
    for name in _UNSET:
        os.environ.pop(name, None)
