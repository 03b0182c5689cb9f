"""Ability score adjustments (BECMI / Rules Cyclopedia; scores run 3-18)."""

# (lowest score of the band, adjustment); checked against the OSE SRD ability tables, which carry the
# same numbers as the Rules Cyclopedia.
_MODIFIER_BANDS = ((18, 3), (16, 2), (13, 1), (9, 0), (6, -1), (4, -2), (3, -3))

# Individual initiative adjustment for Dexterity: 3: -2, 4-8: -1, 9-12: 0, 13-17: +1, 18: +2.
# Verified against the OSE SRD Dexterity table (optional individual initiative column), OGL 1.0a.
# It is flatter than the general modifier: 16-17 give +1, not +2.
_INITIATIVE_BANDS = ((18, 2), (13, 1), (9, 0), (4, -1), (3, -2))


def _check_score(score: int) -> None:
    if not 3 <= score <= 18:
        raise ValueError(f"ability score must be between 3 and 18, got {score}")


def _band(score: int, bands: tuple[tuple[int, int], ...]) -> int:
    _check_score(score)
    for lowest, adjustment in bands:
        if score >= lowest:
            return adjustment
    raise AssertionError("unreachable: every score from 3 up falls in a band")


def modifier(score: int) -> int:
    """The standard adjustment for an ability score (used for CON on hit dice, STR on melee, ...)."""
    return _band(score, _MODIFIER_BANDS)


def initiative_adjustment(dexterity: int) -> int:
    """What Dexterity adds to a 1d6 individual-initiative roll."""
    return _band(dexterity, _INITIATIVE_BANDS)
