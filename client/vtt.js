// The BECMI VTT client library: log in, call the API with the CSRF token, and follow a game session live.
//
//   import { Vtt } from "/vtt.js";
//   const vtt = new Vtt();
//   await vtt.verify();                       // start-up: who is logged in, and the CSRF token
//   await vtt.login("demo_dm", "password");
//   const game = vtt.session(7);              // options: { transport: "auto" | "websocket" | "longpoll" }
//   game.on("character_hp_updated", (data, event) => ...);
//   game.onStateChange((state) => ...);       // "connecting" | "websocket" | "longpoll" | "offline"
//   game.start();
//
// Every failed call rejects with an ApiError carrying the server's `message`, `error` code and field `errors`.

import { GameSession, STATE_LABELS } from "./realtime.js";

export { GameSession, STATE_LABELS };

export class ApiError extends Error {
  constructor(status, body, fallback) {
    super((body && body.message) || fallback || `Request failed (${status})`);
    this.name = "ApiError";
    this.status = status;
    this.code = (body && body.error) || null;
    this.errors = (body && body.errors) || {};
    this.body = body || null;
  }

  /** True when the endpoint does not exist on this server (yet): callers degrade instead of failing. */
  get missingEndpoint() {
    return this.status === 404 && this.message === "Endpoint not found";
  }
}

export class Vtt {
  constructor({ baseUrl = "" } = {}) {
    this.baseUrl = baseUrl.replace(/\/$/, "");
    this.csrfToken = null;
    this.user = null;
    this._authListeners = new Set();
    // Bounds on (server clock - client clock), in seconds, from the Date headers of responses.
    this._clockLow = -Infinity;
    this._clockHigh = Infinity;
  }

  url(path) {
    const clean = path.replace(/^\/+/, "").replace(/^api\//, "");
    return `${this.baseUrl}/api/${clean}`;
  }

  websocketUrl(path, query) {
    const base = new URL(this.baseUrl || window.location.origin, window.location.href);
    base.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    base.pathname = `${base.pathname.replace(/\/$/, "")}/api/${path}`;
    base.search = new URLSearchParams(query).toString();
    return base.toString();
  }

  /** Low-level request: resolves with the parsed body on success, rejects with ApiError. */
  async request(method, path, { query, body, signal, timeoutMs } = {}) {
    let url = this.url(path);
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
      }
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    const headers = { Accept: "application/json" };
    if (method !== "GET") {
      headers["Content-Type"] = "application/json";
      if (this.csrfToken) headers["X-CSRF-Token"] = this.csrfToken;
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort();
    if (signal) signal.addEventListener("abort", onAbort, { once: true });
    const timer = timeoutMs ? setTimeout(() => controller.abort(), timeoutMs) : null;
    const sentAt = Date.now();
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: method === "GET" ? undefined : JSON.stringify(body || {}),
        credentials: "include",
        cache: "no-store",
        signal: controller.signal,
      });
    } catch (error) {
      throw new ApiError(0, null, navigator.onLine === false ? "You are offline" : "Cannot reach the server");
    } finally {
      if (timer) clearTimeout(timer);
      if (signal) signal.removeEventListener("abort", onAbort);
    }
    this._noteDateHeader(response.headers.get("Date"), sentAt, Date.now());
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    this._learnCsrf(parsed);
    if (!response.ok || !parsed || parsed.status !== "success") {
      const error = new ApiError(response.status, parsed, `The server answered ${response.status}`);
      if (response.status === 401 && !/\/auth\/(login|register)\.php$/.test(path)) this._setUser(null);
      throw error;
    }
    return parsed;
  }

  /** GET; resolves with `data`. */
  async get(path, query, options) {
    return (await this.request("GET", path, { ...options, query })).data;
  }

  /** POST with the CSRF header; resolves with `data`. */
  async post(path, body, options) {
    return (await this.request("POST", path, { ...options, body })).data;
  }

  async verify() {
    const data = await this.get("auth/verify.php");
    this._setUser(data.authenticated ? data.user : null);
    return this.user;
  }

  async login(username, password) {
    const data = await this.post("auth/login.php", { username, password });
    this._setUser(withoutCsrf(data));
    return this.user;
  }

  async register(username, email, password) {
    const data = await this.post("auth/register.php", { username, email, password });
    this._setUser(withoutCsrf(data));
    return this.user;
  }

  async logout() {
    try {
      await this.post("auth/logout.php", {});
    } finally {
      this.csrfToken = null;
      this._setUser(null);
    }
  }

  /** Calls `handler(user|null)` whenever the logged-in user changes (including a 401 from any call). */
  onAuthChange(handler) {
    this._authListeners.add(handler);
    return () => this._authListeners.delete(handler);
  }

  /** A live game session; call `.start()` after registering handlers. */
  session(sessionId, options = {}) {
    return new GameSession(this, sessionId, options);
  }

  /** The server's clock in epoch seconds, estimated from response Date headers (about 1 s accurate). */
  serverNow() {
    const now = Date.now() / 1000;
    if (!Number.isFinite(this._clockLow) || !Number.isFinite(this._clockHigh)) return now;
    return now + (this._clockLow + this._clockHigh) / 2;
  }

  /** Record that the server's clock read `serverSeconds` (± `resolution`) between `sentAt` and `receivedAt`. */
  noteServerTime(serverSeconds, sentAt, receivedAt, resolution = 0) {
    const low = serverSeconds - receivedAt / 1000;
    const high = serverSeconds + resolution - sentAt / 1000;
    if (low > this._clockHigh + 2 || high < this._clockLow - 2) {
      // The client's clock jumped: start over.
      this._clockLow = low;
      this._clockHigh = high;
      return;
    }
    this._clockLow = Math.max(this._clockLow, low);
    this._clockHigh = Math.min(this._clockHigh, high);
    if (this._clockLow > this._clockHigh) [this._clockLow, this._clockHigh] = [this._clockHigh, this._clockLow];
  }

  _noteDateHeader(value, sentAt, receivedAt) {
    const parsed = value ? Date.parse(value) : NaN;
    if (!Number.isNaN(parsed)) this.noteServerTime(parsed / 1000, sentAt, receivedAt, 1);
  }

  _learnCsrf(body) {
    if (!body || typeof body !== "object") return;
    const token = body.csrf_token || (body.data && typeof body.data === "object" && body.data.csrf_token);
    if (token) this.csrfToken = token;
  }

  _setUser(user) {
    const changed = (this.user && this.user.user_id) !== (user && user.user_id);
    this.user = user;
    if (changed) for (const handler of [...this._authListeners]) handler(user);
  }
}

function withoutCsrf(data) {
  const { csrf_token: _ignored, ...user } = data;
  return user;
}
