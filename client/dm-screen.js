// The DM screen: the game session (status, players), party hit points with damage and healing, monsters and the bestiary, the initiative
// tracker, the music controls and XP awards.

import { h, field, setText, syncList, busy, announce, onSubmit, hpBar, updateHpBar } from "./ui.js";
import { labelClass, truthy } from "./table-state.js";
import { panel, onlineLine, soundPanel } from "./table.js";
import { tableLog } from "./table-log.js";
import { damageRoller } from "./dice.js";
import { mapPanel } from "./battle-map.js";
import { dmMapTools } from "./dm-map-tools.js";
import { sessionPanel } from "./dm-session-panel.js";

const TRACKS = [{ url: "/sounds/test-tone.wav", name: "Test tone" }];

export function renderDm(context) {
  const { state, session } = context;
  const page = h("div", { class: "table-screen dm" },
    h("div", { class: "table-head" },
      h("h1", {}, session.session_title, h("span", { class: "badge dm" }, "DM screen")),
      onlineLine(state)),
    h("div", { class: "grid" },
      sessionPanel(context),
      mapPanel(context, dmMapTools(context)),
      partyPanel(context),
      initiativePanel(context),
      monstersPanel(context),
      audioPanel(context),
      xpPanel(context),
      tableLog(context)));
  return page;
}

/** Damage / Heal controls for one combatant: an amount and two buttons named after the target. */
function hpControls(name, idBase, onChange) {
  const amount = h("input", { type: "number", min: 1, max: 10000, value: 1, id: `${idBase}-amount`, class: "amount", inputmode: "numeric" });
  const damage = h("button", { type: "button", class: "damage", "aria-label": `Damage ${name}` }, "Damage");
  const heal = h("button", { type: "button", class: "heal", "aria-label": `Heal ${name}` }, "Heal");
  const act = (button, kind) => busy(button, () => {
    const value = Math.max(1, Math.floor(Number(amount.value) || 1));
    return onChange(kind === "damage" ? { damage: value } : { healing: value });
  });
  damage.addEventListener("click", () => act(damage, "damage"));
  heal.addEventListener("click", () => act(heal, "heal"));
  return h("div", { class: "hp-actions" },
    h("label", { for: amount.id, class: "visually-hidden" }, `Amount for ${name}`), amount, damage, heal);
}

function partyPanel({ vtt, state, sessionId }) {
  const list = h("ul", { class: "roster" });
  const empty = h("p", { class: "muted" }, "No characters yet. Players create theirs on the player screen.");
  const update = () => {
    const characters = state.charactersSorted();
    empty.hidden = characters.length > 0;
    syncList(list, characters, (c) => c.character_id, (c) => {
      const bar = hpBar(c.current_hp, c.max_hp);
      const row = h("li", { class: "combatant" },
        h("div", { class: "row-head" }, h("span", { class: "name" }), h("span", { class: "meta" })),
        h("div", { class: "hp-line" }, bar, h("span", { class: "hp-text" })),
        hpControls(c.character_name, `c${c.character_id}`, async (change) => {
          const result = await vtt.post("character/update-hp.php", { character_id: c.character_id, ...change });
          state.mergeCharacter(result);
        }),
        damageRoller(vtt, sessionId, { character_id: c.character_id }, c.character_name, (hp) => state.mergeCharacter(hp)));
      return row;
    }, (row, c) => {
      setText(row.querySelector(".name"), c.character_name);
      setText(row.querySelector(".meta"), `${labelClass(c.class)} ${c.level ?? 1}${c.experience_points != null ? ` · ${c.experience_points} XP` : ""}`);
      updateHpBar(row.querySelector(".hp-bar"), c.current_hp, c.max_hp);
      setText(row.querySelector(".hp-text"), `${c.current_hp} / ${c.max_hp} HP`);
      row.classList.toggle("down", truthy(c.is_dead));
    });
  };
  update();
  state.onChange(update);
  return panel("party", "Party", empty, list);
}

function monstersPanel({ vtt, state, sessionId }) {
  const list = h("ul", { class: "roster" });
  const empty = h("p", { class: "muted" }, "No monsters on the table.");
  const update = () => {
    const monsters = state.monstersSorted();
    empty.hidden = monsters.length > 0;
    syncList(list, monsters, (m) => m.instance_id, (m) => {
      const toTracker = h("button", { type: "button", class: "ghost", "aria-label": `Add ${m.instance_name} to initiative` }, "+ Initiative");
      toTracker.addEventListener("click", () => busy(toTracker, async () => {
        state.setInitiative(await vtt.post("combat/add-monster.php", { session_id: sessionId, monster_instance_id: m.instance_id }));
      }));
      const remove = h("button", { type: "button", class: "ghost danger", "aria-label": `Remove ${m.instance_name} from the table` }, "Remove");
      remove.addEventListener("click", () => {
        if (!window.confirm(`Remove ${m.instance_name} from the table, its tokens and its place in initiative?`)) return;
        busy(remove, async () => {
          const result = await vtt.post("monsters/delete-instance.php", { instance_id: m.instance_id });
          // The events follow on the live feed; the answer takes it off this screen now.
          state.removeMonster(result.instance_id);
          announce(`Removed ${result.instance_name}`);
        });
      });
      return h("li", { class: "combatant monster" },
        h("div", { class: "row-head" }, h("span", { class: "name" }), h("span", { class: "meta" })),
        h("div", { class: "hp-line" }, hpBar(m.current_hp, m.max_hp), h("span", { class: "hp-text" })),
        h("div", { class: "row-actions" },
          hpControls(m.instance_name, `m${m.instance_id}`, async (change) => {
            state.mergeMonster(await vtt.post("monsters/update-hp.php", { instance_id: m.instance_id, ...change }));
          }),
          damageRoller(vtt, sessionId, { monster_instance_id: m.instance_id }, m.instance_name, (hp) => state.mergeMonster(hp)),
          toTracker, remove));
    }, (row, m) => {
      setText(row.querySelector(".name"), m.instance_name);
      setText(row.querySelector(".meta"), `AC ${m.armor_class ?? "?"}${m.condition ? ` · ${m.condition}` : ""}`);
      updateHpBar(row.querySelector(".hp-bar"), m.current_hp, m.max_hp);
      setText(row.querySelector(".hp-text"), `${m.current_hp} / ${m.max_hp} HP`);
      row.classList.toggle("down", m.current_hp <= 0);
    });
  };
  update();
  state.onChange(update);
  return panel("monsters", "Monsters", bestiary(vtt, state, sessionId), empty, list);
}

function bestiary(vtt, state, sessionId) {
  const results = h("ul", { class: "bestiary-results", "aria-live": "polite" });
  const search = h("input", { type: "search", name: "search", placeholder: "goblin, orc, skeleton…", autocomplete: "off" });
  const count = h("input", { type: "number", name: "count", min: 1, max: 50, value: 1, inputmode: "numeric" });
  const form = h("form", { class: "spawn", role: "search", novalidate: true },
    h("div", { class: "inline-fields" }, field("Search the bestiary", search), field("How many", count)),
    h("button", { type: "submit" }, "Search"), results);
  const show = (monsters) => results.replaceChildren(...monsters.map((monster) => {
    const spawn = h("button", { type: "button", class: "primary", "aria-label": `Spawn ${monster.name}` }, "Spawn");
    spawn.addEventListener("click", () => busy(spawn, async () => {
      const data = await vtt.post("monsters/create-instance.php", { monster_id: monster.monster_id, session_id: sessionId, count: Number(count.value) || 1 });
      for (const instance of data.instances || []) state.mergeMonster(instance);
      announce(`Spawned ${data.count} × ${monster.name}`);
    }));
    return h("li", {}, h("span", { class: "name" }, monster.name), h("span", { class: "meta" }, ` HD ${monster.hit_dice} · AC ${monster.armor_class}`), spawn);
  }));
  onSubmit(form, (data) => vtt.get("monsters/list.php", { search: data.get("search"), limit: 8 }), (data) => {
    show(data.monsters || []);
    if (!(data.monsters || []).length) results.replaceChildren(h("li", { class: "muted" }, "No monster matches."));
  });
  return form;
}

function initiativePanel({ vtt, state, sessionId }) {
  const round = h("p", { class: "round" });
  const list = h("ol", { class: "initiative" });
  const post = (path, body) => vtt.post(`combat/${path}`, { session_id: sessionId, ...body }).then((data) => state.setInitiative(data));
  const pick = h("select", { name: "combatant" });
  const add = h("button", { type: "button" }, "Add");
  add.addEventListener("click", () => busy(add, () => {
    const [kind, id] = pick.value.split(":");
    if (!id) throw new Error("Choose a combatant to add");
    return kind === "c" ? post("add-character.php", { character_id: Number(id) }) : post("add-monster.php", { monster_instance_id: Number(id) });
  }));
  const mode = h("select", { name: "mode" }, h("option", { value: "individual" }, "Individual (1d6 + DEX)"), h("option", { value: "group" }, "Group (party vs monsters)"));
  const roll = h("button", { type: "button" }, "Roll initiative");
  roll.addEventListener("click", () => busy(roll, () => post("roll-initiative.php", { mode: mode.value })));
  const next = h("button", { type: "button", class: "primary" }, "Next turn");
  next.addEventListener("click", () => busy(next, () => post("next-turn.php", {})));
  const clear = h("button", { type: "button", class: "ghost" }, "Clear");
  clear.addEventListener("click", () => busy(clear, () => post("clear-initiative.php", {})));

  const update = () => {
    const { initiatives, round_number: number } = state.initiative;
    setText(round, number > 0 ? `Round ${number}` : initiatives.length ? "Not started — roll, then Next turn" : "No combat");
    syncList(list, initiatives, (e) => e.initiative_id, (e) => {
      const remove = h("button", { type: "button", class: "icon", "aria-label": `Remove ${e.entity_name} from initiative` }, "✕");
      remove.addEventListener("click", () => busy(remove, () => post(e.entity_type === "character" ? "remove-character.php" : "remove-monster.php", { initiative_id: e.initiative_id })));
      return h("li", {}, h("span", { class: "roll" }), h("span", { class: "name" }), h("span", { class: "kind" }), remove);
    }, (row, e) => {
      setText(row.querySelector(".roll"), e.initiative_roll ?? "–");
      setText(row.querySelector(".name"), e.entity_name);
      setText(row.querySelector(".kind"), e.entity_type === "monster" ? "monster" : "PC");
      const current = truthy(e.is_current_turn);
      row.classList.toggle("current", current);
      if (current) row.setAttribute("aria-current", "step");
      else row.removeAttribute("aria-current");
    });
    const inTracker = new Set(initiatives.map((e) => (e.character_id ? `c:${e.character_id}` : `m:${e.monster_instance_id}`)));
    const options = [
      ...state.charactersSorted().map((c) => ({ value: `c:${c.character_id}`, label: c.character_name })),
      ...state.monstersSorted().filter((m) => m.current_hp > 0).map((m) => ({ value: `m:${m.instance_id}`, label: m.instance_name })),
    ].filter((option) => !inTracker.has(option.value));
    const wanted = options.map((o) => o.value).join("|");
    if (pick.dataset.options !== wanted) {
      const selected = pick.value;
      pick.replaceChildren(h("option", { value: "" }, options.length ? "Choose a combatant…" : "Everyone is in"), ...options.map((o) => h("option", { value: o.value }, o.label)));
      pick.value = options.some((o) => o.value === selected) ? selected : "";
      pick.dataset.options = wanted;
    }
  };
  update();
  state.onChange(update);
  return panel("initiative", "Initiative", round, list,
    h("div", { class: "inline-fields" }, field("Add to the fight", pick), add),
    h("div", { class: "inline-fields" }, field("Roll mode", mode), roll),
    h("div", { class: "actions" }, next, clear));
}

function audioPanel(context) {
  const { vtt, sessionId } = context;
  const track = h("select", { name: "track" }, ...TRACKS.map((t) => h("option", { value: t.url }, t.name)), h("option", { value: "" }, "Another URL…"));
  const url = h("input", { name: "track_url", type: "url", placeholder: "https://… or /sounds/…" });
  const urlField = field("Track URL", url);
  urlField.hidden = true;
  track.addEventListener("change", () => {
    urlField.hidden = track.value !== "";
  });
  const volume = h("input", { type: "range", name: "volume", min: 0, max: 100, value: 80 });
  const loop = h("input", { type: "checkbox", name: "loop" });
  const control = (action, extra) => vtt.post("audio/control.php", { session_id: sessionId, action, ...extra });
  const chosen = () => {
    const value = track.value || url.value.trim();
    const known = TRACKS.find((t) => t.url === value);
    return { track_url: value, track_name: known ? known.name : value.split("/").pop() };
  };
  const button = (label, cls, action) => {
    const el = h("button", { type: "button", class: cls }, label);
    el.addEventListener("click", () => busy(el, action));
    return el;
  };
  volume.addEventListener("change", () => control("volume", { volume: Number(volume.value) }).catch((e) => announce(e.message, "error", e)));
  loop.addEventListener("change", () => control("loop", { loop: loop.checked }).catch((e) => announce(e.message, "error", e)));
  context.game.on("audio", (audio) => {
    if (document.activeElement !== volume) volume.value = audio.volume;
    loop.checked = Boolean(audio.loop);
  });
  const controls = h("div", { class: "audio-controls" },
    field("Track", track), urlField,
    h("div", { class: "actions" },
      button("▶ Play", "primary", () => control("play", { ...chosen(), volume: Number(volume.value), loop: loop.checked })),
      button("❚❚ Pause", "", () => control("pause")),
      button("■ Stop", "ghost", () => control("stop"))),
    field("Volume for everyone", volume),
    h("label", { class: "check" }, loop, " Loop"));
  return soundPanel(context, controls);
}

function xpPanel({ vtt, state, sessionId }) {
  const boxes = h("div", { class: "checks" });
  const form = h("form", { class: "xp", novalidate: true },
    h("fieldset", {}, h("legend", {}, "Characters"), boxes, h("p", { class: "field-error", id: "xp-character_ids-error" })),
    h("div", { class: "inline-fields" },
      field("XP each", h("input", { type: "number", name: "xp_amount", min: 1, value: 100, inputmode: "numeric" })),
      field("Reason", h("input", { name: "reason", maxlength: 200, placeholder: "Defeated the goblins" }))),
    h("button", { type: "submit", class: "primary" }, "Award XP"));
  const update = () => syncList(boxes, state.charactersSorted(), (c) => c.character_id,
    (c) => h("label", { class: "check" }, h("input", { type: "checkbox", name: "character_ids", value: c.character_id, checked: true }), h("span")),
    (el, c) => setText(el.querySelector("span"), ` ${c.character_name} (${c.experience_points ?? 0} XP)`));
  update();
  state.onChange(update);
  onSubmit(form, (data) => vtt.post("character/grant-xp.php", {
    session_id: sessionId,
    character_ids: data.getAll("character_ids").map(Number),
    xp_amount: Number(data.get("xp_amount")),
    reason: data.get("reason") || null,
  }), (result) => {
    for (const c of result.characters || []) state.mergeCharacter(c);
    const levelled = (result.characters || []).filter((c) => c.levelled_up).map((c) => `${c.character_name} reached level ${c.level}`);
    announce([`Awarded ${result.xp_amount} XP`, ...levelled].join(". "));
  });
  return panel("xp", "Experience", form);
}
