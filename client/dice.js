// Dice at the table: ask the server to roll (never the browser), and draw a result with every die, the
// dropped ones struck through. Text goes in through h() (text nodes), never as HTML.

import { h } from "./ui.js";

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
