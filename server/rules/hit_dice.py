"""Monster hit-dice notation (``3``, ``1+1``, ``2-1``, ``1/2``, ``5**``, ``11+2*``), hit points and XP."""

import random
import re
from dataclasses import dataclass

MAX_DICE = 50

_NOTATION = re.compile(r"(?:(?P<half>1/2)|(?P<dice>[1-9][0-9]*)(?:(?P<sign>[+-])(?P<mod>[1-9][0-9]*))?)(?P<stars>\**)")


@dataclass(frozen=True)
class HitDice:
    dice: int  # d8s rolled; 0 for the "1/2" creatures that roll 1d4 instead
    modifier: int  # hit points added (or, if negative, taken) after the roll
    half: bool
    asterisks: int  # special abilities: raise the XP value, never the hit points


def parse(notation: str) -> HitDice:
    """Read a monster's hit dice. Anything but the notation above raises ValueError."""
    match = _NOTATION.fullmatch(notation.strip()) if isinstance(notation, str) else None
    if match is None:
        raise ValueError(
            f"bad hit dice {notation!r}: expected N, N+M, N-M or 1/2 (N from 1 to {MAX_DICE}), "
            "optionally followed by asterisks, e.g. '3*', '1+1', '2-1', '1/2', '11+2*'"
        )
    stars = len(match["stars"])
    if match["half"]:
        return HitDice(dice=0, modifier=0, half=True, asterisks=stars)
    dice = int(match["dice"])
    if dice > MAX_DICE:
        raise ValueError(f"bad hit dice {notation!r}: at most {MAX_DICE} dice")
    mod = int(match["mod"] or 0) * (-1 if match["sign"] == "-" else 1)
    return HitDice(dice=dice, modifier=mod, half=False, asterisks=stars)


def roll_hp(notation: str, rng: random.Random) -> int:
    """Hit points for one monster: N d8 +/- M (at least 1); ``1/2`` rolls 1d4."""
    hd = parse(notation)
    if hd.half:
        return rng.randint(1, 4)
    return max(1, sum(rng.randint(1, 8) for _ in range(hd.dice)) + hd.modifier)


# XP by hit dice. The rows to 6 HD are becmi-rules.md's and match the OSE SRD "Awarding XP" table
# (OGL 1.0a); 6+ and up come from that same table, which carries the B/X and Rules Cyclopedia values.
# (hit dice, has a "+" bonus) -> (base XP, XP per asterisk)
_LOW_XP: dict[tuple[int, bool], tuple[int, int]] = {
    (0, False): (5, 1),  # under 1 HD
    (1, False): (10, 3),
    (1, True): (15, 4),
    (2, False): (20, 5),
    (2, True): (25, 10),
    (3, False): (35, 15),
    (3, True): (50, 25),
    (4, False): (75, 50),
    (4, True): (125, 75),
    (5, False): (175, 125),
    (5, True): (225, 175),
    (6, False): (275, 225),
    (6, True): (350, 300),
}
# From 7 HD the table groups bands; each row covers both N and N+.
# (lowest HD, highest HD, base XP, XP per asterisk)
_XP_ROWS: tuple[tuple[int, int, int, int], ...] = (
    (7, 7, 450, 400),
    (8, 8, 650, 550),
    (9, 10, 900, 700),
    (11, 12, 1_100, 800),
    (13, 16, 1_350, 950),
    (17, 20, 2_000, 1_150),
    (21, 21, 2_500, 2_000),
)
# OSE SRD: past 21 HD, each further hit die adds 250 to both the base and the per-asterisk bonus.
_XP_PER_HD_OVER_21 = 250


def _xp_row(hd: HitDice) -> tuple[int, int]:
    if hd.half:
        return _LOW_XP[(0, False)]
    dice, plus = hd.dice, hd.modifier > 0
    if hd.modifier < 0:
        # A minus drops the monster one band: 1-1 is "under 1" (OSE goblin: HD 1-1, 5 XP), 3-1 is "2+".
        dice, plus = dice - 1, dice > 1
    if (dice, plus) in _LOW_XP:
        return _LOW_XP[(dice, plus)]
    if dice > 21:
        extra = _XP_PER_HD_OVER_21 * (dice - 21)
        return 2_500 + extra, 2_000 + extra
    for lowest, highest, base, bonus in _XP_ROWS:
        if lowest <= dice <= highest:
            return base, bonus
    raise AssertionError(f"no XP row for {hd}")


def xp_value(notation: str) -> int:
    """XP for defeating one monster: the base for its hit dice plus the bonus once per asterisk."""
    hd = parse(notation)
    base, bonus = _xp_row(hd)
    return base + bonus * hd.asterisks
