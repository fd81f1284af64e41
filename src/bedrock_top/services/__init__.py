"""boto3 clients and the AWS reads besides CloudWatch (Service Quotas, the Bedrock control
plane, the Price List), each with its cache.
"""
