// The DM's hold on the game session itself: its status with Start / End, inviting a player by username,
// and removing a player or withdrawing an invitation. Everything here is also in the API
// (POST /api/session/start.php, end.php, invite-player.php, remove-player.php).

import { h, field, setText, syncList, busy, announce, onSubmit } from "./ui.js";
import { panel } from "./table.js";

const STATUS_LABELS = { scheduled: "Scheduled — not started yet", active: "In play", completed: "Ended", cancelled: "Cancelled" };

/** The "Game session" panel of the DM screen. */
export function sessionPanel({ vtt, state, sessionId }) {
  const status = h("p", { class: "session-status", role: "status" });
  const start = h("button", { type: "button", class: "primary" }, "Start session");
  const end = h("button", { type: "button", class: "ghost" }, "End session");
  const changeStatus = (button, action) => busy(button, async () => {
    const result = await vtt.post(`session/${action}.php`, { session_id: sessionId });
    // The event follows on the live feed (and writes the log line); the answer sets the buttons right now.
    state.session = { ...state.session, status: result.status };
    state.changed();
    announce(action === "start" ? "The session has started" : "The session has ended");
  });
  start.addEventListener("click", () => changeStatus(start, "start"));
  end.addEventListener("click", () => {
    if (window.confirm("End this game session for everyone?")) changeStatus(end, "end");
  });

  const username = h("input", { name: "username", autocomplete: "off", placeholder: "username", required: true, maxlength: 50 });
  const invite = h("form", { class: "inline-form", novalidate: true },
    field("Invite a player by username", username),
    h("button", { type: "submit" }, "Invite"));
  onSubmit(invite, (data) => vtt.post("session/invite-player.php", { session_id: sessionId, username: String(data.get("username") || "").trim() }),
    (result) => {
      // The seat itself appears with the player_invited event of the live feed.
      announce(`Invited ${result.username}`);
      invite.reset();
    });

  const list = h("ul", { class: "seats" });
  const empty = h("p", { class: "muted" }, "No players yet. Invite one by username.");
  const update = () => {
    const current = state.session && state.session.status;
    setText(status, `Status: ${STATUS_LABELS[current] || current || "unknown"}`);
    status.dataset.status = current || "";
    start.hidden = current !== "scheduled";
    end.hidden = current !== "active";
    const seats = [...state.seats].map(([userId, seat]) => ({ userId, seat, username: state.players.get(userId) || `user ${userId}` }))
      .sort((a, b) => a.username.localeCompare(b.username));
    empty.hidden = seats.length > 0;
    syncList(list, seats, (s) => s.userId, (s) => {
      const remove = h("button", { type: "button", class: "ghost" });
      remove.addEventListener("click", () => {
        if (!window.confirm(`Remove ${s.username} from this game session?`)) return;
        busy(remove, async () => {
          const result = await vtt.post("session/remove-player.php", { session_id: sessionId, user_id: s.userId });
          announce(`Removed ${result.username}`);
        });
      });
      return h("li", {}, h("span", { class: "name" }), h("span", { class: "meta" }), remove);
    }, (row, s) => {
      setText(row.querySelector(".name"), s.username);
      setText(row.querySelector(".meta"), s.seat === "invited" ? "invited" : "player");
      const remove = row.querySelector("button");
      setText(remove, s.seat === "invited" ? "Withdraw" : "Remove");
      remove.setAttribute("aria-label", `${s.seat === "invited" ? "Withdraw the invitation of" : "Remove"} ${s.username}`);
    });
  };
  update();
  state.onChange(update);
  return panel("session", "Game session", status, h("div", { class: "actions" }, start, end), invite, empty, list);
}
