// The one table log of both screens: chat, dice and the game's events (damage, initiative, XP, music) in
// one list, newest at the bottom. It is filled from the event log: the game session replays every event
// the server lets this member see when it connects (and resumes after a drop), so the log survives a
// reload or a reconnect. Below it: say something (to everyone, or whisper to the members ticked in "To" or
// clicked in the log) and roll.
// Text goes in as text nodes (h(), textContent), never as HTML.

import { h, setText, busy, announce } from "./ui.js";
import { describe } from "./table-state.js";
import { panel } from "./table.js";
import { VISIBILITIES, diceLine, roll } from "./dice.js";

const MAX_ENTRIES = 300;

export function tableLog(context) {
  const { vtt, game, state, session, sessionId, me, role } = context;
  const list = h("ol", { class: "log table-log", "aria-live": "polite", "aria-relevant": "additions" });
  const entries = new Map(); // event_id -> li

  const names = () => {
    const known = new Map(state.players);
    for (const user of state.online) known.set(user.user_id, user.username);
    if (session.dm_user_id) known.set(session.dm_user_id, session.dm_username || (role === "dm" ? me.username : "DM"));
    known.set(me.user_id, me.username);
    return known;
  };
  const nameOf = (userId) => names().get(userId) || `user ${userId}`;

  // ---- the composer: message, recipients, dice ----
  // "To" ticks whom to whisper to, as many members as wanted; none ticked says it to everyone.
  const chosen = new Set(); // user ids
  const recipients = h("span", { class: "recipients" });
  const toSummary = h("span", { class: "to-summary" }, "everyone");
  const to = h("fieldset", { class: "to" }, h("legend", {}, "To"), recipients, toSummary);
  const text = h("input", { name: "text", maxlength: 2000, autocomplete: "off", placeholder: "Say something…", "aria-label": "Message" });
  const send = h("button", { type: "submit", class: "primary" }, "Send");
  const chat = h("form", { class: "chat-form", novalidate: true }, to, text, send);
  const expression = h("input", { name: "expression", maxlength: 200, value: "1d20", autocomplete: "off", "aria-label": "Dice", inputmode: "text" });
  const visibility = h("select", { name: "visibility", "aria-label": "Who sees the roll" },
    VISIBILITIES.map(([value, label]) => h("option", { value }, label)),
    h("option", { value: "whisper" }, "Whisper: only me and whom “To” ticks"));
  const rollNow = h("button", { type: "submit" }, "Roll");
  const dice = h("form", { class: "dice-form", novalidate: true }, expression, visibility, rollNow);
  const problem = h("p", { class: "field-error log-error", role: "alert" });

  const summarise = () => {
    setText(toSummary, chosen.size ? `whisper to ${[...chosen].map(nameOf).join(", ")}` : "everyone");
    for (const box of recipients.querySelectorAll("input")) box.checked = chosen.has(Number(box.value));
  };
  const updateRecipients = () => {
    // An invitee is not at the table yet: a whisper to them would be refused.
    const options = [...names()].filter(([id]) => id !== me.user_id && state.seats.get(id) !== "invited")
      .sort((a, b) => a[1].localeCompare(b[1]));
    const wanted = options.map(([id, name]) => `${id}:${name}`).join("|");
    if (recipients.dataset.options === wanted) return;
    for (const id of chosen) if (!options.some(([known]) => known === id)) chosen.delete(id);
    recipients.replaceChildren(...options.map(([id, name]) => {
      const box = h("input", { type: "checkbox", value: String(id) });
      box.addEventListener("change", () => {
        if (box.checked) chosen.add(id); else chosen.delete(id);
        summarise();
      });
      return h("label", { class: "recipient" }, box, name);
    }));
    recipients.dataset.options = wanted;
    summarise();
  };
  updateRecipients();
  state.onChange(updateRecipients);

  const whisperTo = (userId) => {
    updateRecipients();
    chosen.add(userId);
    summarise();
    text.focus();
  };
  const whisperedTo = () => (chosen.size ? [...chosen] : null);
  const chosenVisibility = () => {
    if (visibility.value !== "whisper") return visibility.value;
    if (!chosen.size) throw new Error("Tick whom to whisper the roll to in “To”");
    return { whisper_to: whisperedTo() };
  };
  const rollAndShow = async (dieExpression, label) => {
    setText(problem, "");
    try {
      await roll(vtt, sessionId, dieExpression, { label, visibility: chosenVisibility() });
    } catch (error) {
      setText(problem, error.message); // next to the dice, with the caret under the column
    }
  };

  chat.addEventListener("submit", (event) => {
    event.preventDefault();
    const message = text.value.trim();
    if (!message) return;
    busy(send, async () => {
      setText(problem, "");
      try {
        await vtt.post("chat/send.php", { session_id: sessionId, text: message, to: whisperedTo() });
        text.value = "";
      } catch (error) {
        setText(problem, error.message);
      }
    });
  });
  dice.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(rollNow, () => rollAndShow(expression.value.trim(), null));
  });
  // Roll buttons anywhere on the screen (the character sheet's abilities and hit dice) roll through here.
  const onRollButton = (event) => {
    if (!root.isConnected) {
      document.removeEventListener("click", onRollButton);
      return;
    }
    const button = event.target.closest && event.target.closest("[data-roll]");
    if (button) busy(button, () => rollAndShow(button.dataset.roll, button.dataset.label || null));
  };
  document.addEventListener("click", onRollButton);

  // ---- the entries ----
  const nameButton = (userId, shown) => {
    if (userId === me.user_id) return h("span", { class: "who me" }, shown || "You");
    const button = h("button", { type: "button", class: "who", title: `Whisper to ${shown}`, "aria-label": `Whisper to ${shown}` }, shown);
    button.addEventListener("click", () => whisperTo(userId));
    return button;
  };
  const time = (at) => h("time", { class: "at", datetime: at || "" }, at ? at.slice(11, 16) : "");

  const chatEntry = (event, data) => {
    const recipients = (data.to || []).filter((id) => id !== data.sender_user_id);
    const li = h("li", { class: `entry chat${recipients.length ? " whisper" : ""}` },
      time(event.created_at), " ",
      nameButton(data.sender_user_id, data.sender_name),
      data.character_name ? h("span", { class: "as" }, ` as ${data.character_name}`) : null,
      recipients.length ? h("span", { class: "whisper-to" }, ` whispers to ${recipients.map(nameOf).join(", ")}`) : null,
      ": ", h("span", { class: "text" }, data.text));
    if (data.sender_user_id === me.user_id || role === "dm") {
      const remove = h("button", { type: "button", class: "icon delete", "aria-label": "Delete this message" }, "✕");
      remove.addEventListener("click", () => busy(remove, () => vtt.post("chat/delete.php", { session_id: sessionId, message_id: event.event_id })));
      li.append(remove);
    }
    return li;
  };

  const rollEntry = (event, data) => {
    const who = nameButton(data.roller_user_id, data.roller_name || nameOf(data.roller_user_id));
    if (data.hidden) {
      const secret = data.visibility === "blind" ? "rolled blind: only the DM sees it" : "rolled for the DM's eyes only";
      return h("li", { class: "entry roll hidden" }, time(event.created_at), " ", who, ` ${secret}`);
    }
    const shownTo = data.visibility === "public" ? null
      : data.visibility === "whisper" ? `whispered to ${(data.whisper_to || []).map(nameOf).join(", ")}`
        : { dm: "to the DM", blind: "blind", self: "to self" }[data.visibility];
    return h("li", { class: `entry roll${data.visibility === "public" ? "" : " private"}` },
      time(event.created_at), " ", who,
      ` rolled ${data.label ? `${data.label} ` : ""}(${data.expression})`,
      shownTo ? h("span", { class: "visibility" }, ` [${shownTo}]`) : null,
      ": ", diceLine(data));
  };

  const add = (event, li) => {
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    li.dataset.eventId = event.event_id;
    entries.set(event.event_id, li);
    list.append(li);
    while (entries.size > MAX_ENTRIES) {
      const [oldest] = entries.keys();
      entries.get(oldest).remove();
      entries.delete(oldest);
    }
    if (atBottom) list.scrollTop = list.scrollHeight;
  };

  const onEvent = (event) => {
    const data = event.event_data || {};
    switch (event.event_type) {
      case "chat_message":
        if (!data.deleted) add(event, chatEntry(event, data));
        return;
      case "chat_message_deleted": {
        const li = entries.get(data.message_id);
        if (li) {
          li.remove();
          entries.delete(data.message_id);
        }
        return;
      }
      case "dice_rolled":
        add(event, rollEntry(event, data));
        if (!event.replay && data.roller_user_id !== me.user_id && data.label) announce(`${nameOf(data.roller_user_id)} rolled ${data.label}`);
        return;
      default: {
        const line = describe(event.event_type, data);
        if (line) add(event, h("li", { class: "entry event" }, time(event.created_at), " ", line));
      }
    }
  };
  game.on("*", onEvent); // registered before the game starts, so the replay fills the log

  const root = panel("log", "Table log", list, problem, chat, dice);
  return root;
}
