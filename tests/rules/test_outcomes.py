"""Outcome instruments as data (rules/outcomes/*.toml): the shipped four load, score and judge the MCID as
docs/outcomes.md says; a malformed file fails loading with one line naming the file and the key."""

from __future__ import annotations

import pytest

from rules.outcomes import MAX_OPTIONS, Instrument, OutcomeError, asked_at, from_files, instrument, load_instruments

YES_NO = """
[[items.options]]
value = 1
label = "はい"
[[items.options]]
value = 0
label = "いいえ"
"""
GOOD = """
id = "rdq"
version = 1
title = "RDQ-J"
short = "RDQ"
licence = "ライセンス済み"
asked = ["baseline", "end"]
scoring = "sum"
better = "lower"
range = [0, 2]

[[items]]
id = "q1"
text = "腰痛のため、家にいることが多い"
""" + YES_NO + """
[[items]]
id = "q2"
text = "腰痛のため、ゆっくり歩く"
""" + YES_NO


def test_the_shipped_instruments_in_asking_order():
    assert [i.id for i in load_instruments()] == ["pain_week", "psfs", "limited_days", "pgic"]
    assert [i.id for i in asked_at("baseline")] == ["pain_week", "psfs", "limited_days"]
    assert [i.id for i in asked_at("end")] == ["pain_week", "psfs", "limited_days", "pgic"]
    assert all(len(item.options) <= MAX_OPTIONS for i in load_instruments() for item in i.items)


def test_mcid_nrs_two_points_or_thirty_percent_and_psfs_two_points():
    nrs, psfs, pgic = instrument("pain_week"), instrument("psfs"), instrument("pgic")
    assert nrs is not None and psfs is not None and pgic is not None
    assert nrs.change(6, 4).important  # 2 points
    assert nrs.change(3, 2).important  # 1 point, 33 %
    change = nrs.change(8, 7)
    assert change is not None and change.improved and not change.important  # 1 point, 12 %
    worse = nrs.change(3, 5)
    assert worse is not None and not worse.improved and not worse.important and worse.points == 2
    assert psfs.change(3.5, 5.5).important and not psfs.change(3.5, 5).important
    assert psfs.score([3, 4]) == 3.5
    assert pgic.responder(2) and not pgic.responder(3)
    assert nrs.change(None, 3) is None


def test_a_clinic_adds_an_instrument_with_a_file():
    [rdq] = from_files([("rdq.toml", GOOD)])
    assert rdq.score([1, 0]) == 1 and rdq.asked == ("baseline", "end") and rdq.order == 100


@pytest.mark.parametrize(("change", "message"), [
    (("asked = [\"baseline\", \"end\"]", "asked = [\"weekly\"]"), "rdq.toml: asked: must be a list of occasions"),
    (("better = \"lower\"", "better = \"down\""), "rdq.toml: better: must be one of lower, higher"),
    (("id = \"q2\"", "id = \"q1\""), "rdq.toml: items: ids must be unique"),
    (("value = 0\nlabel = \"いいえ\"\n\n[[items]]", "value = 1\nlabel = \"いいえ\"\n\n[[items]]"),
     "rdq.toml: items[0].options: values must be unique"),
    (("short = \"RDQ\"", "shrot = \"RDQ\""), "rdq.toml: shrot: unknown key"),
    (("title = \"RDQ-J\"", "title = \"\""), "rdq.toml: title: must be a non-empty text"),
    (("range = [0, 2]", "range = [2, 0]"), "rdq.toml: range: must be [lowest, highest] score"),
    (("[[items]]\nid = \"q1\"", "[[items]]\nid = \"q1\"\nscale = [0, 20]"),
     "rdq.toml: items[0]: give either scale"),
    (("version = 1", "version = "), "rdq.toml: invalid TOML"),
])
def test_a_malformed_file_fails_loading_naming_the_key(change, message):
    old, new = change
    assert old in GOOD
    with pytest.raises(OutcomeError) as err:
        from_files([("rdq.toml", GOOD.replace(old, new, 1))])
    assert str(err.value).startswith(message)


def test_a_bad_mcid_is_refused():
    with pytest.raises(OutcomeError, match=r"^rdq\.toml: mcid\.points: must be a positive number"):
        from_files([("rdq.toml", GOOD + "\n[mcid]\npoints = -1\n")])


def test_too_many_buttons_and_duplicate_ids_are_refused():
    many = GOOD.replace("[[items]]\nid = \"q1\"", "[[items]]\nid = \"q1\"\nscale = [0, 13]\n[[skip]]", 1)
    with pytest.raises(OutcomeError):
        from_files([("rdq.toml", many)])
    wide = GOOD.split("[[items]]")[0] + "[[items]]\nid = \"q\"\ntext = \"x\"\nscale = [0, 13]\n"
    with pytest.raises(OutcomeError, match="between 2 and 13 answer options"):
        Instrument.from_toml(wide, "wide.toml")
    with pytest.raises(OutcomeError, match="two instrument files have id 'rdq'"):
        from_files([("a.toml", GOOD), ("b.toml", GOOD)])
