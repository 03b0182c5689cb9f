"""The dice grammar and roller (server/rules/dice.py), without the server."""

from __future__ import annotations

import random

import pytest

from server.rules import dice


class Fixed(random.Random):
    """Hands out the given faces in order: a roll whose dice the test chooses."""

    def __init__(self, *faces: int) -> None:
        super().__init__(0)
        self.faces = list(faces)

    def randint(self, a: int, b: int) -> int:
        face = self.faces.pop(0)
        assert a <= face <= b
        return face


FORMS = {
    # text: (terms as (sign, count, sides, keep, keep_count), modifier, bounds)
    "d20": ([(1, 1, 20, None, None)], 0, (1, 20)),
    "3d6": ([(1, 3, 6, None, None)], 0, (3, 18)),
    "2d8+3": ([(1, 2, 8, None, None)], 3, (5, 19)),
    "1d20-1": ([(1, 1, 20, None, None)], -1, (0, 19)),
    "4d6kh3": ([(1, 4, 6, "kh", 3)], 0, (3, 18)),
    "4d6k3": ([(1, 4, 6, "kh", 3)], 0, (3, 18)),
    "2d20kl1": ([(1, 2, 20, "kl", 1)], 0, (1, 20)),
    "1d8+1d6+2": ([(1, 1, 8, None, None), (1, 1, 6, None, None)], 2, (4, 16)),
    "d%": ([(1, 1, 100, None, None)], 0, (1, 100)),
    "2d%": ([(1, 2, 100, None, None)], 0, (2, 200)),
    "1d6-1d4": ([(1, 1, 6, None, None), (-1, 1, 4, None, None)], 0, (-3, 5)),
    " 2 D 6 + 1 ": ([(1, 2, 6, None, None)], 1, (3, 13)),
    "7": ([], 7, (7, 7)),
    "100d1000": ([(1, 100, 1000, None, None)], 0, (100, 100_000)),
    "d2": ([(1, 1, 2, None, None)], 0, (1, 2)),
}


@pytest.mark.parametrize("text", FORMS)
def test_every_form_parses(text: str):
    terms, modifier, bounds = FORMS[text]
    expression = dice.parse(text)
    assert [(t.sign, t.count, t.sides, t.keep, t.keep_count) for t in expression.terms] == terms
    assert expression.modifier == modifier
    assert expression.bounds == bounds
    assert expression.text == text.strip()


MALFORMED = {
    # text: (column, words the message must contain)
    "2d6+": (5, "ends too early"),
    "2d6x": (4, "unexpected character 'x'"),
    "d": (2, "number of sides"),
    "++": (1, "unexpected '+'"),
    "3d6 kh": (7, "ends too early"),
    "4d6k": (5, "ends too early"),
    "d1": (2, "between 2 and 1000, not 1"),
    "d1001": (2, "between 2 and 1000, not 1001"),
    "101d6": (1, "between 1 and 100, not 101"),
    "0d6": (1, "between 1 and 100, not 0"),
    "50d6+51d6": (6, "at most 100 dice"),
    "4d6kh5": (6, "between 1 and 4, not 5"),
    "4d6kh0": (6, "between 1 and 4, not 0"),
    "1+1+1+1+1+1+1+1+1+1+1+1+1": (25, "at most 12 terms"),
    "%": (1, "unexpected '%'"),
    "2d6%": (4, "unexpected '%'"),
    "2d6 3": (5, "unexpected '3'"),
    "10001": (1, "between 0 and 10000"),
    "d20+<b>": (5, "unexpected character '<'"),
    "": (1, "an expression is required"),
    "   ": (1, "an expression is required"),
    "1" * 201: (201, "longer than 200"),
}


@pytest.mark.parametrize("text", MALFORMED)
def test_each_malformed_expression_says_where(text: str):
    column, words = MALFORMED[text]
    with pytest.raises(dice.DiceError) as caught:
        dice.parse(text)
    error = caught.value
    assert error.column == column
    assert error.message.startswith(f"At column {column}: ")
    assert words in error.message
    line, caret = error.context.split("\n")
    assert caret == " " * (column - 1) + "^"
    assert line == text[: dice.MAX_LENGTH]


def test_twelve_terms_and_a_hundred_dice_are_allowed():
    assert dice.parse("+".join(["1"] * 12)).modifier == 12
    assert dice.parse("50d6+50d6").dice_count == 100


@pytest.mark.parametrize("text", ["d20", "3d6", "2d8+3", "1d20-1", "4d6kh3", "2d20kl1", "1d8+1d6+2", "d%", "1d6-1d4"])
def test_totals_stay_within_bounds_and_reach_both_ends(text: str):
    expression = dice.parse(text)
    low, high = expression.bounds
    rng = random.Random(11)
    totals = {dice.roll(expression, rng).total for _ in range(4000)}
    assert min(totals) >= low and max(totals) <= high
    if expression.dice_count <= 3 and max(t.sides for t in expression.terms) <= 20:
        assert {low, high} <= totals


def test_keep_highest_keeps_the_highest_and_shows_the_dropped_die():
    result = dice.roll(dice.parse("4d6kh3+2"), Fixed(3, 6, 1, 5))
    assert [(d.value, d.kept) for d in result.dice[0]] == [(3, True), (6, True), (1, False), (5, True)]
    assert result.total == 3 + 6 + 5 + 2
    shown = result.to_dict()
    assert shown["terms"][0]["dice"] == [
        {"value": 3, "kept": True},
        {"value": 6, "kept": True},
        {"value": 1, "kept": False},
        {"value": 5, "kept": True},
    ]
    assert (shown["modifier"], shown["total"], shown["terms"][0]["subtotal"], shown["terms"][0]["keep"]) == (
        2,
        16,
        14,
        "kh3",
    )


def test_keep_lowest_keeps_the_lowest_and_ties_keep_the_first():
    assert [d.kept for d in dice.roll(dice.parse("2d20kl1"), Fixed(17, 4)).dice[0]] == [False, True]
    assert [d.kept for d in dice.roll(dice.parse("3d6kh2"), Fixed(5, 5, 5)).dice[0]] == [True, True, False]


def test_keep_highest_over_many_rolls():
    rng = random.Random(5)
    expression = dice.parse("4d6kh3")
    for _ in range(500):
        faces = dice.roll(expression, rng).dice[0]
        kept = sorted(d.value for d in faces if d.kept)
        dropped = [d.value for d in faces if not d.kept]
        assert len(kept) == 3 and len(dropped) == 1 and dropped[0] <= kept[0]


def test_a_subtracted_term_counts_against_the_total():
    result = dice.roll(dice.parse("1d8-1d4-1"), Fixed(6, 3))
    assert result.total == 6 - 3 - 1
    assert [t["subtotal"] for t in result.to_dict()["terms"]] == [6, -3]
