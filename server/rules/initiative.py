"""Initiative rolls. The server always rolls, so both take the session's ``rng``."""

import random

from server.rules.abilities import initiative_adjustment


def roll_group(rng: random.Random) -> int:
    """Side initiative: 1d6 per side, the higher acts first (ties are the caller's call)."""
    return rng.randint(1, 6)


def roll_individual(dexterity: int, rng: random.Random) -> int:
    """Optional individual initiative: 1d6 + the Dexterity adjustment.

    Not clamped: a DEX 3 character can score -1, which only means "acts last".
    """
    return rng.randint(1, 6) + initiative_adjustment(dexterity)
