"""Damage and healing: one rule for characters and monster instances alike."""

from __future__ import annotations

from dataclasses import dataclass

from server.errors import Invalid

# The most damage or healing one change may carry (larger numbers are a client's mistake).
MAX_CHANGE = 10_000


@dataclass(frozen=True)
class HitPointChange:
    """Damage then healing, applied together."""

    damage: int = 0
    healing: int = 0

    def require_effect(self) -> None:
        """What someone asks for must change something (a rolled 0 damage, applied by a die, need not)."""
        if self.damage == 0 and self.healing == 0:
            raise Invalid({"damage": "Give damage or healing greater than 0"})

    def applied_to(self, current_hp: int, max_hp: int) -> int:
        """The hit points after the change, kept within 0..max_hp."""
        return max(0, min(max_hp, current_hp - self.damage + self.healing))
