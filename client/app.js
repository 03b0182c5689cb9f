// The page: hash routes (#/login, #/register, #/sessions, #/table/<id>), the account bar and the
// connection indicator. ?transport=longpoll (or websocket) forces a transport, for testing fallbacks.

import { Vtt, STATE_LABELS } from "./vtt.js";
import { h, field, onSubmit, announce, busy } from "./ui.js";
import { openTable } from "./table.js";

const vtt = new Vtt();
window.vtt = vtt; // for the console
const main = document.getElementById("main");
const transport = new URLSearchParams(window.location.search).get("transport") || "auto";
let closeScreen = null;

export function setConnection(state) {
  const el = document.getElementById("connection");
  el.dataset.state = state || "idle";
  el.querySelector(".label").textContent = state ? STATE_LABELS[state] : "Not connected";
  el.title = state === "offline" ? "Reconnecting automatically" : "";
}

function go(hash) {
  if (window.location.hash === hash) route();
  else window.location.hash = hash;
}

function screen(title, ...children) {
  document.title = `${title} · BECMI VTT`;
  main.replaceChildren(...children);
  main.focus({ preventScroll: true });
}

async function route() {
  if (closeScreen) {
    closeScreen();
    closeScreen = null;
  }
  setConnection(null);
  const [, name = "", arg] = (window.location.hash || "#/").split("/");
  renderAccount();
  if (!vtt.user) {
    if (name === "register") return showRegister();
    return showLogin(name === "login" ? "" : window.location.hash);
  }
  if (name === "table" && /^\d+$/.test(arg || "")) {
    closeScreen = await openTable(vtt, main, Number(arg), { transport, setConnection, screen, go });
    return;
  }
  if (name === "login" || name === "register" || name !== "sessions") return go("#/sessions");
  return showSessions();
}

function renderAccount() {
  const nav = document.getElementById("account");
  if (!vtt.user) {
    nav.replaceChildren();
    return;
  }
  const logout = h("button", { type: "button", class: "ghost" }, "Log out");
  logout.addEventListener("click", () => busy(logout, async () => {
    await vtt.logout();
    go("#/login");
  }));
  nav.replaceChildren(
    h("a", { href: "#/sessions" }, "My sessions"),
    h("span", { class: "who" }, vtt.user.username),
    logout,
  );
}

function showLogin(returnTo) {
  const form = h("form", { class: "card narrow", novalidate: true },
    h("h1", {}, "Log in"),
    field("Username or email", h("input", { name: "username", autocomplete: "username", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit", class: "primary" }, "Log in"),
    h("p", {}, "New here? ", h("a", { href: "#/register" }, "Create an account")),
  );
  onSubmit(form, (data) => vtt.login(data.get("username"), data.get("password")),
    () => go(returnTo && returnTo.startsWith("#/table/") ? returnTo : "#/sessions"));
  screen("Log in", form);
  form.elements.username.focus();
}

function showRegister() {
  const form = h("form", { class: "card narrow", novalidate: true },
    h("h1", {}, "Create an account"),
    field("Username", h("input", { name: "username", autocomplete: "username", required: true }), "3–50 letters, digits, _ or -"),
    field("Email", h("input", { name: "email", type: "email", autocomplete: "email", required: true })),
    field("Password", h("input", { name: "password", type: "password", autocomplete: "new-password", required: true }), "At least 8 characters"),
    h("button", { type: "submit", class: "primary" }, "Create account"),
    h("p", {}, "Already have one? ", h("a", { href: "#/login" }, "Log in")),
  );
  onSubmit(form, (data) => vtt.register(data.get("username"), data.get("email"), data.get("password")), () => go("#/sessions"));
  screen("Create an account", form);
  form.elements.username.focus();
}

export function localDate(serverText) {
  if (!serverText) return "";
  const date = new Date(`${serverText.replace(" ", "T")}Z`);
  return Number.isNaN(date.getTime()) ? serverText : date.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

function toServerDate(localValue) {
  const date = new Date(localValue);
  if (!localValue || Number.isNaN(date.getTime())) return localValue;
  return date.toISOString().slice(0, 19).replace("T", " ");
}

function defaultSessionTime() {
  const date = new Date(Date.now() + 86_400_000);
  date.setHours(19, 0, 0, 0);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T19:00`;
}

async function showSessions() {
  const list = h("ul", { class: "sessions", "aria-busy": "true" }, h("li", { class: "muted" }, "Loading your sessions…"));
  const create = h("form", { class: "card", novalidate: true },
    h("h2", {}, "Start a new game session"),
    field("Title", h("input", { name: "session_title", required: true, maxlength: 100 })),
    field("Date and time", h("input", { name: "session_datetime", type: "datetime-local", required: true, value: defaultSessionTime() })),
    field("Description (optional)", h("textarea", { name: "session_description", rows: 2 })),
    // A string value is the attribute, so the form's reset after a create goes back to 6, not to blank.
    field("Max players", h("input", { name: "max_players", type: "number", min: 1, max: 12, value: "6" })),
    h("button", { type: "submit", class: "primary" }, "Create session"),
  );
  onSubmit(create, (data) => vtt.post("session/create.php", {
    session_title: data.get("session_title"),
    session_datetime: toServerDate(data.get("session_datetime")),
    session_description: data.get("session_description") || null,
    max_players: Number(data.get("max_players")) || 6,
  }), (session) => {
    announce(`Created “${session.session_title}”`);
    create.reset();
    create.elements.session_datetime.value = defaultSessionTime();
    load();
  });
  screen("My sessions",
    h("div", { class: "page" },
      h("section", { class: "card", "aria-labelledby": "sessions-h" }, h("h1", { id: "sessions-h" }, "My game sessions"), list),
      create));

  async function load() {
    try {
      const data = await vtt.get("session/list.php", { limit: 100 });
      list.removeAttribute("aria-busy");
      const sessions = data.sessions || [];
      if (!sessions.length) {
        list.replaceChildren(h("li", { class: "muted" }, "No sessions yet. Create one, or ask your DM for an invitation."));
        return;
      }
      list.replaceChildren(...sessions.map((session) => sessionItem(session, load)));
    } catch (error) {
      list.replaceChildren(h("li", { class: "error-text", role: "alert" }, error.message));
    }
  }
  load();
}

function sessionItem(session, reload) {
  const isDm = session.role === "dm";
  const invited = session.invitation_status === "invited";
  const item = h("li", { class: "session" },
    h("div", { class: "session-head" },
      h("h3", {}, session.session_title),
      h("span", { class: `badge ${isDm ? "dm" : "player"}` }, isDm ? "You are the DM" : invited ? "Invitation" : "Player")),
    h("p", { class: "meta" },
      `${localDate(session.session_datetime)} · ${session.status} · ${session.player_count ?? 0}/${session.max_players} players`,
      isDm ? "" : ` · DM ${session.dm_username}`),
  );
  const actions = h("div", { class: "actions" });
  if (invited) {
    const accept = h("button", { type: "button", class: "primary" }, "Accept invitation");
    accept.setAttribute("aria-label", `Accept invitation to ${session.session_title}`);
    accept.addEventListener("click", () => busy(accept, async () => {
      await vtt.post("session/accept-invitation.php", { session_id: session.session_id });
      announce(`You joined “${session.session_title}”`);
      reload();
    }));
    actions.append(accept);
  } else {
    actions.append(h("a", { class: "button primary", href: `#/table/${session.session_id}`, "aria-label": `Open the table of ${session.session_title}` }, isDm ? "Open DM screen" : "Join the table"));
  }
  if (isDm && (session.status === "scheduled" || session.status === "active")) {
    const action = session.status === "scheduled" ? "start" : "end";
    const change = h("button", { type: "button", class: action === "start" ? "" : "ghost", "aria-label": `${action === "start" ? "Start" : "End"} ${session.session_title}` },
      action === "start" ? "Start session" : "End session");
    change.addEventListener("click", () => {
      if (action === "end" && !window.confirm(`End “${session.session_title}” for everyone?`)) return;
      busy(change, async () => {
        await vtt.post(`session/${action}.php`, { session_id: session.session_id });
        announce(`“${session.session_title}” ${action === "start" ? "has started" : "has ended"}`);
        reload();
      });
    });
    actions.append(change);
  }
  item.append(actions);
  if (isDm) {
    const invite = h("form", { class: "inline-form", novalidate: true },
      field(`Invite a player to ${session.session_title}`, h("input", { name: "username", autocomplete: "off", placeholder: "username", required: true })),
      h("button", { type: "submit" }, "Invite"));
    onSubmit(invite, (data) => vtt.post("session/invite-player.php", { session_id: session.session_id, username: data.get("username") }),
      (result) => {
        announce(`Invited ${result.username}`);
        invite.reset();
      });
    item.append(invite);
  }
  return item;
}

vtt.onAuthChange((user) => {
  renderAccount();
  if (!user && !["#/login", "#/register"].includes(window.location.hash)) route();
});
window.addEventListener("hashchange", route);

(async function start() {
  try {
    await vtt.verify();
  } catch (error) {
    main.replaceChildren(h("div", { class: "card narrow", role: "alert" }, h("h1", {}, "Cannot reach the server"), h("p", {}, error.message),
      h("button", { type: "button", class: "primary", onclick: () => window.location.reload() }, "Try again")));
    return;
  }
  route();
})();
