"""The workflow manager's launches table: a parallel scan (``scan``) or "export to S3" files (``export``).

Both end as files of DynamoDB JSON lines; ``items`` maps each item's attributes (``[dynamodb.attributes]``),
validates them, quarantines what is wrong and merges the rest into ``launches`` and ``launch_resources``;
``jobs`` runs each as one recorded, atomic run.
"""
