"""`Profile.replace`: the documented way to change a chapter's sizes (chapter 09's exercise)."""
import pytest

from demystify.profile import Profile, profile


def test_replace_returns_a_new_profile_with_the_changes_and_keeps_the_old_one():
    p = profile("09_transfer_learning", "cpu", seed=3)
    q = p.replace(shots=[1, 5, 50], draws=2)
    assert isinstance(q, Profile) and q is not p
    assert q.shots == [1, 5, 50] and q.draws == 2
    assert p.shots != [1, 5, 50]                           # the original is unchanged
    assert (q.chapter, q.kind, q.budget_s, q.seed) == (p.chapter, p.kind, p.budget_s, 3)
    assert {k: q[k] for k in q if k not in ("shots", "draws")} == \
        {k: p[k] for k in p if k not in ("shots", "draws")}


def test_replace_refuses_an_unknown_size_and_names_the_known_ones():
    p = profile("09_transfer_learning", "cpu")
    with pytest.raises(ValueError, match="has no size 'shotz'.*shots"):
        p.replace(shotz=[1, 2])
    assert p.replace() == p and dict(p.replace()) == dict(p)
