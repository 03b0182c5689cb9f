// The player screen: my character sheet (or the form to create one), the party's hit points, the
// initiative order and whose turn it is, the monsters as players see them, and the music.

import { h, field, setText, syncList, onSubmit, announce, hpBar, updateHpBar } from "./ui.js";
import { labelClass, truthy } from "./table-state.js";
import { panel, onlineLine, soundPanel } from "./table.js";
import { tableLog } from "./table-log.js";
import { rollButton, hitDie } from "./dice.js";
import { mapPanel } from "./battle-map.js";

const CLASSES = ["fighter", "cleric", "magic_user", "thief", "dwarf", "elf", "halfling"];
const ALIGNMENTS = ["lawful", "neutral", "chaotic"];
const ABILITIES = [["strength", "STR"], ["dexterity", "DEX"], ["constitution", "CON"], ["intelligence", "INT"], ["wisdom", "WIS"], ["charisma", "CHA"]];

export function renderPlayer(context) {
  const { state, session } = context;
  return h("div", { class: "table-screen player" },
    h("div", { class: "table-head" },
      h("h1", {}, session.session_title, h("span", { class: "badge player" }, "Player")),
      onlineLine(state)),
    turnBanner(context),
    h("div", { class: "grid" },
      mapPanel(context),
      characterPanel(context),
      partyPanel(context),
      initiativePanel(context),
      soundPanel(context),
      monstersPanel(context),
      tableLog(context)));
}

function myCharacters({ state, me }) {
  return state.charactersSorted().filter((c) => c.user_id === me.user_id);
}

/** One line, always present (so nothing below moves), saying whose turn it is. */
function turnBanner(context) {
  const banner = h("p", { class: "turn-banner", role: "status", "aria-live": "polite" });
  const update = () => {
    const turn = context.state.currentTurn();
    const mine = turn && turn.character_id && myCharacters(context).some((c) => c.character_id === turn.character_id);
    banner.classList.toggle("mine", Boolean(mine));
    setText(banner, !turn ? "No one's turn — waiting for the DM" : mine ? `Your turn, ${turn.entity_name}!` : `${turn.entity_name}'s turn`);
  };
  update();
  context.state.onChange(update);
  return banner;
}

function characterPanel(context) {
  const { state } = context;
  const body = h("div", { class: "sheet-area" });
  let shown = null;
  const update = () => {
    const mine = myCharacters(context);
    const key = mine.length ? "sheet" : "create";
    if (key !== shown) {
      body.replaceChildren(key === "sheet" ? h("div", { class: "sheets" }) : createForm(context));
      shown = key;
    }
    if (key === "sheet") syncList(body.firstElementChild, mine, (c) => c.character_id, sheet, updateSheet);
  };
  update();
  state.onChange(update);
  return panel("character", "My character", body);
}

function sheet(c) {
  return h("article", { class: "sheet" },
    h("h3", { class: "name" }),
    h("p", { class: "meta" }),
    h("div", { class: "hp-line big" }, hpBar(c.current_hp, c.max_hp), h("span", { class: "hp-text" })),
    h("p", { class: "sheet-rolls" }, rollButton(hitDie(c.class), "Hit die", `Roll hit die (${hitDie(c.class)})`)),
    h("dl", { class: "abilities" }, ABILITIES.map(([key, label]) => h("div", { dataset: { ability: key } }, h("dt", {}, label), h("dd", {}, "–"), rollButton("1d20", `${label} check`, "d20")))));
}

function updateSheet(el, c) {
  setText(el.querySelector(".name"), c.character_name);
  const parts = [`Level ${c.level ?? 1} ${labelClass(c.class)}`];
  if (c.alignment) parts.push(labelClass(c.alignment));
  if (c.experience_points != null) parts.push(`${c.experience_points} XP`);
  setText(el.querySelector(".meta"), parts.join(" · "));
  updateHpBar(el.querySelector(".hp-bar"), c.current_hp, c.max_hp);
  setText(el.querySelector(".hp-text"), `${c.current_hp} / ${c.max_hp} HP${truthy(c.is_dead) ? " — down!" : ""}`);
  for (const [key] of ABILITIES) if (c[key] != null) setText(el.querySelector(`[data-ability=${key}] dd`), c[key]);
  el.classList.toggle("down", truthy(c.is_dead));
}

function roll3d6() {
  const bytes = crypto.getRandomValues(new Uint32Array(3));
  return [...bytes].reduce((sum, value) => sum + (value % 6) + 1, 0);
}

function createForm({ vtt, state, sessionId }) {
  const abilityInputs = ABILITIES.map(([key, label]) => field(label, h("input", { type: "number", name: key, min: 3, max: 18, value: 10, required: true, inputmode: "numeric" })));
  const rollButton = h("button", { type: "button", class: "ghost" }, "Roll 3d6 for each");
  const form = h("form", { class: "create-character", novalidate: true },
    h("p", {}, "You have no character at this table yet."),
    field("Name", h("input", { name: "character_name", maxlength: 50, required: true, autocomplete: "off" })),
    h("div", { class: "inline-fields" },
      field("Class", h("select", { name: "class" }, CLASSES.map((c) => h("option", { value: c }, labelClass(c))))),
      field("Alignment", h("select", { name: "alignment" }, ALIGNMENTS.map((a) => h("option", { value: a }, labelClass(a)))))),
    h("fieldset", {}, h("legend", {}, "Abilities"), h("div", { class: "ability-grid" }, abilityInputs), rollButton),
    h("button", { type: "submit", class: "primary" }, "Create character"));
  rollButton.addEventListener("click", () => {
    for (const [key] of ABILITIES) form.elements[key].value = roll3d6();
  });
  onSubmit(form, (data) => vtt.post("character/create.php", {
    character_name: data.get("character_name"),
    class: data.get("class"),
    alignment: data.get("alignment"),
    ...Object.fromEntries(ABILITIES.map(([key]) => [key, Number(data.get(key))])),
    session_id: sessionId,
  }), async (created) => {
    announce(`${created.character_name} is ready`);
    // The full sheet (abilities, alignment); the character_created event brings the party view.
    const full = await vtt.get("character/get.php", { character_id: created.character_id }).catch(() => created);
    state.mergeCharacter({ ...created, ...full });
  });
  return form;
}

function partyPanel({ state }) {
  const list = h("ul", { class: "roster compact" });
  const empty = h("p", { class: "muted" }, "No characters yet.");
  const rows = () => syncList(list, state.charactersSorted(), (c) => c.character_id, (c) => h("li", { class: "combatant" },
    h("div", { class: "row-head" }, h("span", { class: "name" }), h("span", { class: "meta" })),
    h("div", { class: "hp-line" }, hpBar(c.current_hp, c.max_hp), h("span", { class: "hp-text" }))), (row, c) => {
    setText(row.querySelector(".name"), c.character_name);
    setText(row.querySelector(".meta"), `${labelClass(c.class)} ${c.level ?? 1}`);
    updateHpBar(row.querySelector(".hp-bar"), c.current_hp, c.max_hp);
    setText(row.querySelector(".hp-text"), `${c.current_hp} / ${c.max_hp} HP`);
    row.classList.toggle("down", truthy(c.is_dead));
  });
  const update = () => {
    empty.hidden = state.characters.size > 0;
    rows();
  };
  update();
  state.onChange(update);
  return panel("party", "Party", empty, list);
}

function initiativePanel({ state }) {
  const round = h("p", { class: "round" });
  const list = h("ol", { class: "initiative" });
  const update = () => {
    const { initiatives, round_number: number } = state.initiative;
    setText(round, number > 0 ? `Round ${number}` : initiatives.length ? "Combat is about to start" : "No combat");
    syncList(list, initiatives, (e) => e.initiative_id, () => h("li", {}, h("span", { class: "roll" }), h("span", { class: "name" }), h("span", { class: "kind" })), (row, e) => {
      setText(row.querySelector(".roll"), e.initiative_roll ?? "–");
      setText(row.querySelector(".name"), e.entity_name);
      setText(row.querySelector(".kind"), e.entity_type === "monster" ? "monster" : "PC");
      const current = truthy(e.is_current_turn);
      row.classList.toggle("current", current);
      if (current) row.setAttribute("aria-current", "step");
      else row.removeAttribute("aria-current");
    });
  };
  update();
  state.onChange(update);
  return panel("initiative", "Initiative", round, list);
}

function monstersPanel({ state }) {
  const list = h("ul", { class: "foes" });
  const empty = h("p", { class: "muted" }, "No monsters in sight.");
  const update = () => {
    const monsters = state.monstersSorted();
    empty.hidden = monsters.length > 0;
    syncList(list, monsters, (m) => m.instance_id, () => h("li", {}, h("span", { class: "name" }), h("span", { class: "condition" })), (row, m) => {
      setText(row.querySelector(".name"), m.instance_name);
      const condition = row.querySelector(".condition");
      setText(condition, m.condition || "");
      condition.dataset.condition = m.condition || "";
    });
  };
  update();
  state.onChange(update);
  return panel("monsters", "Monsters", empty, list);
}
