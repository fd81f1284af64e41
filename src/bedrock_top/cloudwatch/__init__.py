"""The CloudWatch poller: discovery, query planning, GetMetricData and its decoding, and what
it reads for quotas.
"""
