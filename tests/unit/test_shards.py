"""CI shards: every drill in exactly one shard, the same split in every job, balanced by time."""
import pytest

from dhcpdrill import shards


def test_every_drill_lands_in_exactly_one_shard_and_the_split_is_balanced():
    costs = {f"drill-{i:02d}": float(30 + (i * 37) % 90) for i in range(40)}
    costs.update({"not-stated-a": 0.0, "not-stated-b": 0.0})
    parts = shards.split(costs, 3)
    assert sorted(k for part in parts for k in part) == sorted(costs)
    totals = [sum(costs[k] for k in part) for part in parts]
    assert max(totals) - min(totals) <= max(costs.values())
    assert shards.split(dict(reversed(list(costs.items()))), 3) == parts  # order of collection does not matter


def test_more_shards_than_drills_leaves_some_empty():
    assert shards.split({"a": 10.0, "b": 5.0}, 3) == [["a"], ["b"], []]


@pytest.mark.parametrize("text", ["0/3", "4/3", "1-3", "x", "1/0"])
def test_a_bad_shard_is_refused_with_the_fix(text):
    with pytest.raises(ValueError, match=r"give I/N with 1 <= I <= N, e.g. --shard 2/3"):
        shards.parse(text)


def test_a_good_shard_parses():
    assert shards.parse(" 2/3") == (2, 3)
