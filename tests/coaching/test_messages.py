"""The messaging port's stored form: an answer kept in the outbox (a crash between its commit and its send)
is sent later exactly as it was made, its link to a person's chat included."""

from __future__ import annotations

from bot.coaching.messages import Reply, from_payload, to_payload


def test_a_reply_survives_the_outbox_whole():
    reply = Reply("【至急】たろうさん（ID 12）", [[("対応しました", "ak:5")]], document=("a.csv", b"x,y\n"),
                  photo=b"\x89PNG", picture_id="exercise.heel_raise", priority="safety", link=("たろうさん", 5001))
    assert from_payload(to_payload(reply)) == reply


def test_a_plain_reply_stays_small():
    assert to_payload(Reply("こんにちは")) == {"text": "こんにちは"}
