import json
import random
from pathlib import Path

import pytest

from server.rules import abilities, classes, hit_dice, initiative

DATA = Path(__file__).resolve().parents[2] / "server" / "data"


# --- abilities ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (3, -3),
        (4, -2),
        (5, -2),
        (6, -1),
        (8, -1),
        (9, 0),
        (12, 0),
        (13, 1),
        (15, 1),
        (16, 2),
        (17, 2),
        (18, 3),
    ],
)
def test_modifier_table_edges(score, expected):
    assert abilities.modifier(score) == expected


@pytest.mark.parametrize(
    ("dexterity", "expected"),
    [(3, -2), (4, -1), (8, -1), (9, 0), (12, 0), (13, 1), (16, 1), (17, 1), (18, 2)],
)
def test_initiative_adjustment_is_flatter_than_the_modifier(dexterity, expected):
    assert abilities.initiative_adjustment(dexterity) == expected


@pytest.mark.parametrize("score", [2, 19, 0, -1])
def test_scores_outside_3_to_18_are_rejected(score):
    with pytest.raises(ValueError):
        abilities.modifier(score)


# --- classes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("class_name", "level_2", "level_3"),
    [
        ("fighter", 2_000, 4_000),
        ("cleric", 1_500, 3_000),
        ("magic_user", 2_500, 5_000),
        ("thief", 1_200, 2_400),
        ("dwarf", 2_200, 4_400),
        ("elf", 4_000, 8_000),
        ("halfling", 2_000, 4_000),
    ],
)
def test_xp_thresholds_for_levels_2_and_3(class_name, level_2, level_3):
    assert classes.level_for_xp(class_name, 0) == 1
    assert classes.level_for_xp(class_name, level_2 - 1) == 1
    assert classes.level_for_xp(class_name, level_2) == 2
    assert classes.level_for_xp(class_name, level_3 - 1) == 2
    assert classes.level_for_xp(class_name, level_3) == 3


@pytest.mark.parametrize(
    ("class_name", "max_level"),
    [
        ("fighter", 36),
        ("cleric", 36),
        ("magic_user", 36),
        ("thief", 36),
        ("dwarf", 12),
        ("elf", 10),
        ("halfling", 8),
    ],
)
def test_level_is_capped_at_the_class_maximum(class_name, max_level):
    assert classes.level_for_xp(class_name, 10**9) == max_level
    assert len(classes.CLASSES[class_name].xp_table) == max_level


def test_xp_tables_start_at_zero_and_rise():
    for cls in classes.CLASSES.values():
        assert cls.xp_table[0] == 0
        assert all(a < b for a, b in zip(cls.xp_table, cls.xp_table[1:], strict=False))


def test_high_level_thresholds():
    # Name level and the top of each table (Rules Cyclopedia; OSE SRD agrees through 14th).
    assert classes.CLASSES["fighter"].xp_table[8] == 240_000
    assert classes.CLASSES["fighter"].xp_table[-1] == 3_480_000
    assert classes.CLASSES["cleric"].xp_table[-1] == 2_900_000
    assert classes.CLASSES["magic_user"].xp_table[13] == 1_050_000
    assert classes.CLASSES["thief"].xp_table[13] == 760_000
    assert classes.CLASSES["dwarf"].xp_table[-1] == 660_000
    assert classes.CLASSES["elf"].xp_table[-1] == 600_000
    assert classes.CLASSES["halfling"].xp_table[-1] == 120_000


def test_unknown_class_raises_value_error():
    with pytest.raises(ValueError, match="unknown character class"):
        classes.level_for_xp("paladin", 100)
    with pytest.raises(ValueError):
        classes.first_level_hp("ranger", 10, random.Random(1))


def test_negative_xp_is_rejected():
    with pytest.raises(ValueError):
        classes.level_for_xp("fighter", -1)


@pytest.mark.parametrize("class_name", sorted(classes.CLASSES))
def test_first_level_hp_bounds_with_con_3_and_18(class_name):
    die = classes.CLASSES[class_name].hit_die
    rng = random.Random(1234)
    low = [classes.first_level_hp(class_name, 3, rng) for _ in range(500)]
    high = [classes.first_level_hp(class_name, 18, rng) for _ in range(500)]
    assert min(low) == 1 and max(low) == max(1, die - 3)
    assert min(high) == 4 and max(high) == die + 3


def test_hp_gained_rolls_up_to_name_level_then_is_fixed():
    rng = random.Random(7)
    rolls = [classes.hp_gained("fighter", 9, 18, rng) for _ in range(300)]
    assert min(rolls) == 4 and max(rolls) == 11
    # Constitution no longer counts after 9th level.
    assert classes.hp_gained("fighter", 10, 18, rng) == 2
    assert classes.hp_gained("fighter", 10, 3, rng) == 2
    assert classes.hp_gained("cleric", 12, 18, rng) == 1
    assert classes.hp_gained("magic_user", 36, 18, rng) == 1
    assert classes.hp_gained("thief", 20, 18, rng) == 2
    assert classes.hp_gained("dwarf", 11, 18, rng) == 3
    assert classes.hp_gained("elf", 10, 18, rng) == 2


def test_hp_gained_never_below_one_with_low_con():
    rng = random.Random(99)
    assert min(classes.hp_gained("magic_user", 2, 3, rng) for _ in range(300)) == 1


@pytest.mark.parametrize(("class_name", "level"), [("fighter", 1), ("fighter", 37), ("halfling", 9), ("elf", 11)])
def test_hp_gained_rejects_levels_the_class_cannot_reach(class_name, level):
    with pytest.raises(ValueError):
        classes.hp_gained(class_name, level, 10, random.Random(1))


# --- hit dice ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("notation", "expected"),
    [
        ("3", hit_dice.HitDice(3, 0, False, 0)),
        ("3*", hit_dice.HitDice(3, 0, False, 1)),
        ("1+1", hit_dice.HitDice(1, 1, False, 0)),
        ("2-1", hit_dice.HitDice(2, -1, False, 0)),
        ("1/2", hit_dice.HitDice(0, 0, True, 0)),
        ("1/2*", hit_dice.HitDice(0, 0, True, 1)),
        ("5**", hit_dice.HitDice(5, 0, False, 2)),
        ("11+2*", hit_dice.HitDice(11, 2, False, 1)),
        ("6+1**", hit_dice.HitDice(6, 1, False, 2)),
        ("50", hit_dice.HitDice(50, 0, False, 0)),
    ],
)
def test_every_notation_form_parses(notation, expected):
    assert hit_dice.parse(notation) == expected


@pytest.mark.parametrize(
    "notation",
    [
        "",
        " ",
        "0",
        "0*",
        "abc",
        "3d8",
        "-3",
        "-1+1",
        "51",
        "3+",
        "3-",
        "+3",
        "1/3",
        "2/2",
        "*3",
        "3 *",
        "3+0",
    ],
)
def test_bad_notations_raise(notation):
    with pytest.raises(ValueError, match="hit dice"):
        hit_dice.parse(notation)


@pytest.mark.parametrize(
    ("notation", "low", "high"), [("3*", 3, 24), ("1+1", 2, 9), ("2-1", 1, 15), ("1/2", 1, 4), ("1-1", 1, 7)]
)
def test_roll_hp_stays_within_bounds(notation, low, high):
    rng = random.Random(2024)
    rolls = [hit_dice.roll_hp(notation, rng) for _ in range(3000)]
    assert min(rolls) >= low and max(rolls) <= high
    # enough rolls that both ends should come up
    assert min(rolls) == low and max(rolls) == high


def test_roll_hp_is_reproducible_with_the_same_seed():
    a = [hit_dice.roll_hp("4+1", random.Random(5)) for _ in range(3)]
    b = [hit_dice.roll_hp("4+1", random.Random(5)) for _ in range(3)]
    assert a == b


@pytest.mark.parametrize(
    ("notation", "xp"),
    [
        ("3*", 50),  # the worked example in becmi-rules.md
        ("1/2", 5),
        ("1-1", 5),  # OSE goblin
        ("1", 10),
        ("1+1", 15),
        ("2*", 25),
        ("2+2", 25),
        ("3+1", 50),
        ("4+1", 125),
        ("5**", 425),
        ("6", 275),
        ("6+3*", 650),  # troll
        ("6+1**", 950),  # basilisk
        ("7**", 1_250),
        ("9**", 2_300),
        ("10+2*", 1_600),
        ("15", 1_350),
        ("20**", 4_300),
        ("21", 2_500),
        ("30*", 9_000),  # OSE dragon turtle: 250 more base and bonus per HD past 21
        ("36", 6_250),
    ],
)
def test_xp_value(notation, xp):
    assert hit_dice.xp_value(notation) == xp


# --- initiative --------------------------------------------------------------------------------------


def test_group_initiative_is_a_d6():
    rng = random.Random(3)
    assert {initiative.roll_group(rng) for _ in range(500)} == set(range(1, 7))


@pytest.mark.parametrize(("dexterity", "low", "high"), [(3, -1, 4), (10, 1, 6), (16, 2, 7), (18, 3, 8)])
def test_individual_initiative_adds_dex_adjustment(dexterity, low, high):
    rng = random.Random(11)
    assert {initiative.roll_individual(dexterity, rng) for _ in range(500)} == set(range(low, high + 1))


# --- data files --------------------------------------------------------------------------------------


def _load(name):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


MONSTER_FIELDS = {
    "name": str,
    "armor_class": int,
    "hit_dice": str,
    "move": str,
    "attacks": str,
    "damage": str,
    "morale": int,
    "save_as": str,
    "alignment": str,
    "xp": int,
    "treasure_type": str,
    "description": str,
}


def test_monster_file_header_names_source_and_licence():
    doc = _load("monsters.json")
    assert doc["source"].strip() and doc["licence"].strip() and isinstance(doc["notes"], str)


def test_monsters_are_complete_and_consistent():
    monsters = _load("monsters.json")["monsters"]
    assert len(monsters) >= 60
    names = [m["name"] for m in monsters]
    assert len(names) == len(set(names))
    for m in monsters:
        assert set(m) == set(MONSTER_FIELDS), m["name"]
        for field, kind in MONSTER_FIELDS.items():
            assert type(m[field]) is kind, (m["name"], field)
        assert m["name"].strip() and m["description"].strip()
        hit_dice.parse(m["hit_dice"])
        assert m["xp"] == hit_dice.xp_value(m["hit_dice"]), m["name"]
        assert 2 <= m["morale"] <= 12, m["name"]
        assert -10 <= m["armor_class"] <= 9, m["name"]
        assert m["alignment"] in {"lawful", "neutral", "chaotic"}, m["name"]


def test_the_classic_monsters_are_there():
    names = {m["name"].lower() for m in _load("monsters.json")["monsters"]}
    for wanted in [
        "goblin",
        "kobold",
        "orc",
        "hobgoblin",
        "gnoll",
        "bugbear",
        "skeleton",
        "zombie",
        "ghoul",
        "wight",
        "giant rat",
        "wolf",
        "dire wolf",
        "ogre",
        "troll",
        "owlbear",
    ]:
        assert wanted in names


ITEM_FIELDS = {
    "name",
    "category",
    "item_type",
    "cost_gp",
    "weight_cn",
    "damage_die",
    "damage_type",
    "armor_class",
    "description",
}


def test_equipment_file_header_names_source_and_licence():
    doc = _load("equipment.json")
    assert doc["source"].strip() and doc["licence"].strip() and isinstance(doc["notes"], str)


def test_equipment_is_complete_and_consistent():
    items = _load("equipment.json")["items"]
    assert len(items) >= 100
    names = [i["name"] for i in items]
    assert len(names) == len(set(names))
    for i in items:
        assert set(i) == ITEM_FIELDS, i["name"]
        assert i["category"] in {"weapons", "armor", "gear", "ammunition", "transport"}, i["name"]
        assert isinstance(i["item_type"], str) and i["item_type"]
        assert type(i["cost_gp"]) in (int, float) and i["cost_gp"] >= 0, i["name"]
        assert type(i["weight_cn"]) is int and i["weight_cn"] >= 0, i["name"]
        assert isinstance(i["description"], str) and i["description"].strip()
        if i["category"] == "weapons":
            assert i["damage_die"] and i["damage_type"] in {"slashing", "piercing", "bludgeoning"}, i["name"]
        else:
            assert i["damage_die"] is None and i["damage_type"] is None, i["name"]
        if i["category"] == "armor":
            assert type(i["armor_class"]) is int, i["name"]
        else:
            assert i["armor_class"] is None, i["name"]
