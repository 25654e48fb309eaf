"""The draw algorithm on its own: parity quotas, age bands, shortfalls, reproducibility."""

from __future__ import annotations

import hashlib

import pytest

from civic.councils import sortition as s


def _pool(women: int, men: int) -> list[s.Candidate]:
    return ([s.Candidate(i, "female") for i in range(1, women + 1)]
            + [s.Candidate(100 + i, "male") for i in range(1, men + 1)])


def test_quotas_keep_parity_and_spread_over_age_bands():
    assert s.quotas(6, []) == {"female": 3, "male": 3}
    bands = s.parse_age_bands("60+, 16-29 ; 30-59")
    assert [b.key for b in bands] == ["16-29", "30-59", "60+"]
    assert s.quotas(8, bands) == {"female 16-29": 2, "female 30-59": 1, "female 60+": 1,
                                  "male 16-29": 2, "male 30-59": 1, "male 60+": 1}
    with pytest.raises(s.SortitionError):
        s.quotas(5, [])  # odd: parity impossible
    for bad in ("16-29, 25-40", "abc", "40-20", "30-"):
        with pytest.raises(s.SortitionError):
            s.parse_age_bands(bad)


def test_stratum_of_uses_gender_and_age_band():
    bands = s.parse_age_bands("16-29, 30+")
    assert s.stratum_of("female", 25, bands) == "female 16-29"
    assert s.stratum_of("male", 70, bands) == "male 30+"
    assert s.stratum_of("male", 12, bands) is None
    assert s.stratum_of("other", 40, []) is None


def test_draw_is_the_sha256_order_within_each_stratum():
    result = s.draw("seed-42", _pool(5, 4), {"female": 2, "male": 2})
    expected = sorted(range(1, 6), key=lambda n: hashlib.sha256(
        f"seed-42:{n}".encode()).hexdigest())[:2]
    assert result.drawn["female"] == expected
    assert len(result.drawn["male"]) == 2 and all(n > 100 for n in result.drawn["male"])
    # Same seed, same pool in another order: same list. Another seed: another order.
    again = s.draw("seed-42", list(reversed(_pool(5, 4))), {"female": 2, "male": 2})
    assert again.drawn_numbers == result.drawn_numbers
    others = {tuple(s.draw(f"seed-{k}", _pool(5, 4), {"female": 2, "male": 2}).drawn_numbers)
              for k in range(10)}
    assert len(others) > 1


def test_short_strata_are_all_named_and_nothing_is_drawn():
    with pytest.raises(s.ShortStrata) as info:
        s.draw("x", _pool(1, 0), {"female": 2, "male": 2})
    shortfalls = {f.stratum: f.missing for f in info.value.shortfalls}
    assert shortfalls == {"female": 1, "male": 2}
