// The table of one game session: who am I here, the first snapshot, the live feed, then the DM's or the
// player's screen. A player's screen only calls endpoints every member may call, and those answer in the
// player's view (the server redacts monster hit points).

import { TableState } from "./table-state.js";
import { AudioSync } from "./audio-sync.js";
import { h, setText } from "./ui.js";

// Events replayed after the snapshot, so the table log (table-log.js keeps 300) is not empty on arrival.
const LOG_REPLAY = 300;

export async function openTable(vtt, main, sessionId, { transport, setConnection, screen, go }) {
  let closed = false;
  const cleanups = [];
  const teardown = () => {
    closed = true;
    for (const cleanup of cleanups.splice(0)) cleanup();
  };
  screen("Table", h("p", { class: "loading" }, "Opening the table…"));

  let session;
  try {
    session = await findSession(vtt, sessionId);
  } catch (error) {
    if (!closed) screen("Table", problem("Cannot open this table", error.message, go));
    return teardown;
  }
  if (closed) return teardown;
  if (!session) {
    screen("Table", problem("No such table", "You are not the DM or a player of this game session.", go));
    return teardown;
  }
  if (session.invitation_status === "invited") {
    screen("Table", problem("Invitation not accepted yet", "Accept the invitation on your sessions page first.", go));
    return teardown;
  }

  const role = session.role;
  const state = new TableState();
  state.session = session;
  let head;
  let snapshotMap;
  try {
    ({ head_event_id: head, map: snapshotMap } = await loadSnapshot(vtt, sessionId, state));
  } catch (error) {
    if (!closed) screen("Table", problem("Cannot load the table", error.message, go));
    return teardown;
  }
  if (closed) return teardown;

  // From the snapshot on, not from event 0: only the last few events again, for the table log.
  const game = vtt.session(sessionId, { transport, lastEventId: Math.max(0, head - LOG_REPLAY) });
  const audioElement = h("audio", { preload: "auto", class: "music" });
  const context = { vtt, game, state, session, sessionId, role, me: vtt.user, audio: null, snapshotMap };
  context.audio = new AudioSync(audioElement, { onChange: () => state.changed() });

  window.vttTable = context; // for the console and the browser tests
  cleanups.push(() => {
    if (window.vttTable === context) delete window.vttTable;
  });
  // Each screen's code loads only for its role: players never download the DM's.
  const screenModule = role === "dm" ? await import("./dm-screen.js") : await import("./player-screen.js");
  if (closed) return teardown;
  const page = role === "dm" ? screenModule.renderDm(context) : screenModule.renderPlayer(context);
  page.append(audioElement);
  screen(`${session.session_title} — ${role === "dm" ? "DM screen" : "Player screen"}`, page);

  cleanups.push(
    game.on("*", (event) => state.apply(event.event_type, event.event_data, event)),
    game.on("presence", (users) => state.setOnline(users)),
    game.on("audio", (audio) => context.audio.set(audio)),
    game.onStateChange((value) => setConnection(value)),
    game.on("closed", (detail) => {
      if (detail.code === 4401 || detail.code === 4409 || detail.code === 401) {
        vtt.verify().catch(() => {});
        return;
      }
      if (detail.code === 4412 || detail.code === 412) {
        window.location.reload(); // what we missed is no longer kept: start again from a fresh snapshot
        return;
      }
      screen("Table", problem("You left this table", detail.message, go));
      setConnection("offline");
    }),
    () => game.stop(),
    () => {
      audioElement.pause();
      audioElement.removeAttribute("src");
    },
  );
  const online = () => game.reconnectNow();
  window.addEventListener("online", online);
  cleanups.push(() => window.removeEventListener("online", online));
  game.start();
  return teardown;
}

async function findSession(vtt, sessionId) {
  const data = await vtt.get("session/list.php", { limit: 100 });
  return (data.sessions || []).find((item) => item.session_id === sessionId) || null;
}

/** The table as this member may see it; returns the snapshot (its head_event_id, its active map). */
async function loadSnapshot(vtt, sessionId, state) {
  const data = await vtt.get("session/snapshot.php", { session_id: sessionId });
  for (const character of data.characters || []) state.mergeCharacter(character);
  for (const monster of data.monster_instances || []) state.mergeMonster(monster);
  for (const player of data.players || []) {
    state.players.set(player.user_id, player.username);
    state.seats.set(player.user_id, player.status === "invited" ? "invited" : "accepted");
  }
  state.setInitiative(data.initiative);
  return data;
}

function problem(title, message, go) {
  const back = h("button", { type: "button", class: "primary" }, "Back to my sessions");
  back.addEventListener("click", () => go("#/sessions"));
  return h("div", { class: "card narrow", role: "alert" }, h("h1", {}, title), h("p", {}, message), back);
}

// ---- pieces both screens use ----

export function panel(id, title, ...children) {
  return h("section", { class: `panel panel-${id}`, "aria-labelledby": `${id}-h` }, h("h2", { id: `${id}-h` }, title), ...children);
}

/** Who is connected, kept in a fixed-height line. */
export function onlineLine(state) {
  const line = h("p", { class: "online" });
  const update = () => {
    const names = state.online.map((user) => user.username);
    setText(line, names.length ? `At the table: ${names.join(", ")}` : "At the table: —");
  };
  update();
  state.onChange(update);
  return line;
}

/** The music box: now playing, and the one click browsers require before a page may play sound. */
export function soundPanel(context, extra) {
  const { state, audio } = context;
  const nowPlaying = h("p", { class: "now-playing", "aria-live": "polite" });
  const enable = h("button", { type: "button", class: "primary enable-sound" }, "Enable sound");
  enable.addEventListener("click", () => {
    audio.unlock();
    // The button goes away: keep the keyboard focus in the music box.
    update();
    if (!audio.needsGesture) mute.focus();
  });
  const mute = h("button", { type: "button", class: "ghost", "aria-pressed": "false" }, "Mute on this device");
  mute.addEventListener("click", () => {
    audio.el.muted = !audio.el.muted;
    mute.setAttribute("aria-pressed", String(audio.el.muted));
  });
  const update = () => {
    const music = audio.state;
    const name = music && (music.track_name || (music.track_url || "").split("/").pop());
    const status = !music || music.status === "stopped" || !music.track_url ? "Silence" : `${music.status === "playing" ? "Playing" : "Paused"}: ${name}`;
    setText(nowPlaying, status);
    nowPlaying.dataset.status = music ? music.status : "stopped";
    enable.hidden = !audio.needsGesture;
    mute.hidden = audio.needsGesture;
  };
  update();
  state.onChange(update);
  return panel("sound", "Music", nowPlaying, h("div", { class: "actions" }, enable, mute), extra || null);
}
