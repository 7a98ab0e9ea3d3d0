"""AWS: the facts behind the ``aws`` kind's checks, read through boto3 (imported lazily).

- :mod:`.session`: credentials from boto3's chain, every call bounded by the timeout;
- :mod:`.cloudwatch`: alarm states and metric statistics;
- :mod:`.cost`: one day's cost from Cost Explorer;
- :mod:`.services`: Lambda functions and ECS services.
"""

from opscheck.targets.aws.target import AwsTarget

__all__ = ["AwsTarget"]
