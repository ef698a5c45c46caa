"""The two alternatives the export ingest is measured against, each run in its own process.

``per-item``: what a user would write: boto3's TypeDeserializer on every item, then
``pandas.json_normalize``. ``ceiling``: the bare speed of reading and parsing the same files once
(gzip + orjson per line, nothing kept). Usage: python -m bench.parse_baselines MODE FILE...
"""

from __future__ import annotations

import gzip
import sys


def per_item(files: list[str]) -> int:
    import orjson
    import pandas as pd
    from boto3.dynamodb.types import TypeDeserializer

    des = TypeDeserializer()
    rows = []
    for f in files:
        with gzip.open(f, "rb") as fh:
            for line in fh:
                item = orjson.loads(line)["Item"]
                rows.append({k: des.deserialize(v) for k, v in item.items()})
    frame = pd.json_normalize(rows)
    return len(frame)


def ceiling(files: list[str]) -> int:
    import orjson

    n = 0
    for f in files:
        with gzip.open(f, "rb") as fh:
            for line in fh:
                orjson.loads(line)
                n += 1
    return n


if __name__ == "__main__":
    mode, *paths = sys.argv[1:]
    print({"per-item": per_item, "ceiling": ceiling}[mode](paths))
