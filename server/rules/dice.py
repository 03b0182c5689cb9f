"""Dice expressions as players write them, parsed by a grammar and rolled with injected randomness.

Forms: ``d20``, ``3d6``, ``2d8+3``, ``1d20-1``, ``4d6kh3`` (keep the highest 3; ``k3`` means the same),
``2d20kl1`` (keep the lowest), several terms (``1d8+1d6+2``), ``d%`` (d100). Spaces between parts are
allowed, ``D`` reads as ``d``. Bounds: at most MAX_DICE dice and MAX_TERMS terms, SIDES_RANGE sides, a
constant of at most MAX_CONSTANT. A bad expression raises `DiceError` with the column (1-based) where it
goes wrong and a two-line context with a caret under that column.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from typing import Any, Literal, cast

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

MAX_LENGTH = 200
MAX_DICE = 100
MAX_TERMS = 12
SIDES_RANGE = (2, 1000)
MAX_CONSTANT = 10_000

# LALR with lark's default contextual lexer: after a "d" only SIDES (digits or "%") can come, elsewhere
# only INT, so "d%" lexes and "%" is refused anywhere else (the basic lexer cannot tell them apart).
_GRAMMAR = r"""
start: term (SIGN term)*
?term: dice | INT
dice: [INT] DIE SIDES [keep]
keep: KEEP INT
SIDES: /[0-9]+|%/
DIE: /d/i
KEEP: /k[hl]?/i
SIGN: /[+-]/
INT: /[0-9]+/
%ignore / +/
"""

_WORDS = {
    "INT": "a number",
    "DIE": "'d'",
    "SIDES": "the number of sides (or %)",
    "KEEP": "'kh' or 'kl'",
    "SIGN": "'+' or '-'",
}


class DiceError(ValueError):
    """A bad expression: `message` says what and where, `column` is 1-based, `context` draws the caret."""

    def __init__(self, text: str, column: int, what: str) -> None:
        self.column = column
        self.context = f"{text}\n{' ' * (column - 1)}^"
        self.message = f"At column {column}: {what}"
        super().__init__(self.message)


@dataclass(frozen=True)
class DiceTerm:
    sign: int  # +1 or -1
    count: int
    sides: int
    keep: Literal["kh", "kl"] | None = None
    keep_count: int | None = None


@dataclass(frozen=True)
class Expression:
    text: str
    terms: tuple[DiceTerm, ...]
    modifier: int  # the constants, summed with their signs

    @property
    def dice_count(self) -> int:
        return sum(term.count for term in self.terms)

    @property
    def bounds(self) -> tuple[int, int]:
        """The lowest and highest totals this expression can roll."""
        low = high = self.modifier
        for term in self.terms:
            kept = term.keep_count or term.count
            least, most = (kept, kept * term.sides) if term.sign > 0 else (-kept * term.sides, -kept)
            low, high = low + least, high + most
        return low, high


@functools.cache
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr")


def parse(text: str) -> Expression:
    """Read a dice expression; raise DiceError at the first place it breaks a rule above."""
    if not isinstance(text, str) or not text.strip():
        raise DiceError(text if isinstance(text, str) else "", 1, "an expression is required, such as 1d20 or 2d6+1")
    if len(text) > MAX_LENGTH:
        raise DiceError(text[:MAX_LENGTH], MAX_LENGTH + 1, f"the expression is longer than {MAX_LENGTH} characters")
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    return _build(text, tree)


def _syntax_error(text: str, exc: UnexpectedInput) -> DiceError:
    if isinstance(exc, UnexpectedCharacters):
        return DiceError(text, exc.column, f"unexpected character {exc.char!r}")
    expected = ", ".join(sorted(_WORDS.get(name, name) for name in getattr(exc, "expected", ()) or ()))
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        return DiceError(text, exc.column, f"unexpected {exc.token.value!r}; expected {expected}")
    return DiceError(text, len(text.rstrip()) + 1, f"the expression ends too early; expected {expected}")


def _number(text: str, token: Token, low: int, high: int, what: str) -> int:
    value = int(token.value)
    if not low <= value <= high:
        raise DiceError(text, token.column or 1, f"{what} must be between {low} and {high}, not {value}")
    return value


def _build(text: str, tree: Tree[Any]) -> Expression:
    terms: list[DiceTerm] = []
    modifier = 0
    sign = 1
    count = 0
    for child in tree.children:
        if isinstance(child, Token) and child.type == "SIGN":
            sign = 1 if child.value == "+" else -1
            continue
        count += 1
        if count > MAX_TERMS:
            raise DiceError(text, _column(child), f"at most {MAX_TERMS} terms are allowed")
        if isinstance(child, Token):  # a constant
            modifier += sign * _number(text, child, 0, MAX_CONSTANT, "a constant")
            continue
        terms.append(_dice(text, child, sign))
        if sum(term.count for term in terms) > MAX_DICE:
            raise DiceError(text, _column(child), f"at most {MAX_DICE} dice may be rolled at once")
    return Expression(text=text.strip(), terms=tuple(terms), modifier=modifier)


def _column(node: Token | Tree[Any]) -> int:
    token = node if isinstance(node, Token) else next(t for t in node.scan_values(lambda v: isinstance(v, Token)))
    return token.column or 1


def _dice(text: str, node: Tree[Any], sign: int) -> DiceTerm:
    # The grammar fixes the shape: [count] "d" sides [keep], absent parts as None.
    count_token, _die, sides_token, keep = cast(list[Any], node.children)
    count = 1 if count_token is None else _number(text, count_token, 1, MAX_DICE, "the number of dice")
    if sides_token.value == "%":
        sides = 100
    else:
        sides = _number(text, sides_token, *SIDES_RANGE, "the number of sides")
    if keep is None:
        return DiceTerm(sign, count, sides)
    kind, keep_token = cast(list[Token], keep.children)
    mode: Literal["kh", "kl"] = "kl" if kind.value.lower() == "kl" else "kh"
    return DiceTerm(sign, count, sides, mode, _number(text, keep_token, 1, count, "the number of dice kept"))


@dataclass(frozen=True)
class Die:
    sides: int
    value: int
    kept: bool


@dataclass(frozen=True)
class Roll:
    expression: Expression
    dice: tuple[tuple[Die, ...], ...]  # per term, in the order rolled; dropped dice have kept=False
    total: int

    def to_dict(self) -> dict[str, Any]:
        """The result as the API and the events carry it: every die, kept and dropped."""
        return {
            "expression": self.expression.text,
            "terms": [
                {
                    "sign": "+" if term.sign > 0 else "-",
                    "count": term.count,
                    "sides": term.sides,
                    "keep": None if term.keep is None else f"{term.keep}{term.keep_count}",
                    "dice": [{"value": d.value, "kept": d.kept} for d in dice],
                    "subtotal": term.sign * sum(d.value for d in dice if d.kept),
                }
                for term, dice in zip(self.expression.terms, self.dice, strict=True)
            ],
            "modifier": self.expression.modifier,
            "total": self.total,
        }


def roll(expression: Expression, rng: random.Random) -> Roll:
    """Roll every die of the expression with `rng` (the server passes random.SystemRandom)."""
    rolled: list[tuple[Die, ...]] = []
    total = expression.modifier
    for term in expression.terms:
        values = [rng.randint(1, term.sides) for _ in range(term.count)]
        kept = set(range(term.count))
        if term.keep is not None and term.keep_count is not None:
            # Stable sort by value: among equal dice, the earlier ones are kept.
            order = sorted(range(term.count), key=lambda i: -values[i] if term.keep == "kh" else values[i])
            kept = set(order[: term.keep_count])
        dice = tuple(Die(term.sides, value, i in kept) for i, value in enumerate(values))
        total += term.sign * sum(d.value for d in dice if d.kept)
        rolled.append(dice)
    return Roll(expression, tuple(rolled), total)
