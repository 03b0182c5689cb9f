// Dice at the table: ask the server to roll (never the browser), and draw a result with every die, the
// dropped ones struck through. Text goes in through h() (text nodes), never as HTML.

import { h, busy } from "./ui.js";

export const VISIBILITIES = [
  ["public", "Everyone sees it"],
  ["dm", "Only me and the DM"],
  ["blind", "Blind: only the DM"],
  ["self", "Only me"],
];

// BECMI hit dice by class (Rules Cyclopedia: fighter, dwarf d8; cleric, elf, halfling d6; magic-user, thief d4).
const HIT_DIE = { fighter: "1d8", dwarf: "1d8", cleric: "1d6", elf: "1d6", halfling: "1d6", magic_user: "1d4", thief: "1d4" };

export function hitDie(characterClass) {
  return HIT_DIE[characterClass] || "1d6";
}

/** Roll on the server. `visibility` is one of VISIBILITIES or { whisper_to: [user ids] }. */
export function roll(vtt, sessionId, expression, { label, visibility = "public" } = {}) {
  return vtt.post("dice/roll.php", { session_id: sessionId, expression, label: label || null, visibility });
}

/** A roll button for a sheet: the table log's handler rolls it with the visibility chosen there. */
export function rollButton(expression, label, text = "Roll") {
  return h("button", { type: "button", class: "roll-button", dataset: { roll: expression, label }, "aria-label": `Roll ${label} (${expression})`, title: `Roll ${expression}` }, text);
}

/** The dice of a result: each die a box, dropped dice struck through, then the modifier and the total. */
export function diceLine(data) {
  const parts = [];
  for (const [index, term] of (data.terms || []).entries()) {
    if (index > 0 || term.sign === "-") parts.push(h("span", { class: "op" }, term.sign === "-" ? " − " : " + "));
    const dice = (term.dice || []).map((die) => (die.kept
      ? h("span", { class: "die", title: `d${term.sides}` }, String(die.value))
      : h("s", { class: "die dropped", title: `d${term.sides}, dropped` }, String(die.value))));
    parts.push(h("span", { class: "term", title: `${term.count}d${term.sides}${term.keep || ""}` }, dice));
  }
  if (data.modifier) parts.push(h("span", { class: "op" }, data.modifier < 0 ? ` − ${-data.modifier}` : ` + ${data.modifier}`));
  return h("span", { class: "dice" }, parts, h("span", { class: "op" }, " = "), h("strong", { class: "total" }, String(data.total)));
}

/** The DM's roll-and-apply: an expression and a button that rolls it and deals the total as damage to
 * `target` ({ character_id } or { monster_instance_id }) in one server transaction. */
export function damageRoller(vtt, sessionId, target, name, onApplied) {
  const expression = h("input", { name: "damage_expression", value: "1d6", maxlength: 200, autocomplete: "off", class: "damage-expression", "aria-label": `Damage dice for ${name}` });
  const button = h("button", { type: "button", class: "damage", "aria-label": `Roll damage against ${name}` }, "Roll damage");
  button.addEventListener("click", () => busy(button, async () => {
    const result = await vtt.post("dice/roll.php", { session_id: sessionId, expression: expression.value.trim(), label: `Damage to ${name}`, visibility: "dm", apply_damage_to: target });
    if (onApplied && result.applied) onApplied(result.applied);
  }));
  return h("div", { class: "damage-roller" }, expression, button);
}
