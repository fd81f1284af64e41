"""The synthetic account behind ``--demo``: a CloudWatch backend and its quotas, in boto3's
shapes, so the demo runs the real poller.
"""
