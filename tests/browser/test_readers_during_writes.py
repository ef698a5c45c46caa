"""Dashboard sessions in headless Chromium while ingests commit: no error on any page, never a mix of versions.

``bench.readers.measure`` does the work (and prints the load times); this test checks only what must
hold, never how fast: 4 sessions for about 25 s on 127.0.0.1, 3 ingests committed meanwhile.
"""

from pathlib import Path

import pytest

from bench import readers

pytestmark = pytest.mark.browser


def test_sessions_reading_while_ingests_commit_see_whole_versions_and_no_error(tmp_path):
    assert Path(readers.CHROMIUM).exists(), "Debian chromium is missing: run `make chromium` (make test does)"
    data, writes = readers.demo_world(tmp_path, launches=2000, extra=800)
    writes = writes[:3]  # each adds one file of another export's launches: both Launches and Spend change
    result = readers.measure(data, writes, sessions=4, seconds=25)
    print("\n" + result.summary())
    assert [w["exit"] for w in result.writes] == [0] * len(writes), [w["stderr"] for w in result.writes]
    assert len(set(result.versions)) == len(writes) + 1  # every write changed both figures: each version is known apart
    assert [x.error for x in result.loads if x.error] == []
    assert [x for x in result.loads if x.exceptions] == []
    shown = [(x.launches, x.spend) for x in result.loads]
    assert set(shown) <= set(result.versions)  # every page showed one whole version: Launches and Spend of the same one
    assert result.versions[0] in shown and result.versions[-1] in shown  # the version before the writes, and after them
    assert {x.session for x in result.loads} == set(range(4)) and len(result.loads) >= 2 * 4
