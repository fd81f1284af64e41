"""bedrock-top: top for Amazon Bedrock, fed by CloudWatch's AWS/Bedrock metrics."""

__version__ = "0.1.0"
