// One game session's live feed: WebSocket first, the 25-second long-poll when a WebSocket cannot open or
// keeps failing, resume from the highest event_id after any drop, reconnect with jittered back-off.
//
// Handlers (`session.on(type, handler)`, each returns an unsubscribe function):
//   <event_type>  (event_data, event)     every game event, once per event_id, oldest first
//   "*"           (event)                 every game event
//   "state"       (state, previous)       "connecting" | "websocket" | "longpoll" | "offline"
//   "hello"       (frame)                 WebSocket greeting: role, head_event_id, online_users, audio
//   "presence"    (online_users)          who is connected to this game session now
//   "audio"       (audio)                 the music to play now: {status, track_url, track_name, volume, loop,
//                                         position, anchor} - `position` seconds at client time `anchor` (ms)
//   "closed"      ({code, error, message}) the server refused for good (logged out, removed, no such session)
//   "ephemeral"   (event_type, event_data) a drag or a ping: no event_id, WebSocket only, best effort
//
// `send(frame)` sends a client frame (a drag, a ping) over the WebSocket when one is live; false otherwise.

export const STATE_LABELS = {
  connecting: "Connecting…",
  websocket: "Live (WebSocket)",
  longpoll: "Live (long-poll)",
  offline: "Offline",
};

// Close codes after which reconnecting cannot help.
const FATAL_CLOSE = {
  4400: "bad_request",
  4401: "authentication_required",
  4403: "insufficient_permissions",
  4404: "resource_not_found",
  4409: "logged_out",
  4410: "removed",
  4412: "snapshot_required", // resumed from pruned events: load the snapshot again
};
const FATAL_STATUS = new Set([400, 401, 403, 404, 412]);

const DEFAULTS = {
  transport: "auto", // "auto" | "websocket" | "longpoll"
  lastEventId: 0,
  pollTimeout: 25, // seconds the server may park a poll
  webSocketFailuresBeforeFallback: 2,
  retryWebSocketAfterMs: 120_000, // in long-poll fallback, try a WebSocket again this often
  openTimeoutMs: 10_000, // a WebSocket that has not said hello by then counts as failed
  pingIntervalMs: 25_000,
  pongTimeoutMs: 10_000,
  backoffBaseMs: 500,
  backoffMaxMs: 30_000,
};

export class GameSession {
  constructor(vtt, sessionId, options = {}) {
    this.vtt = vtt;
    this.sessionId = Number(sessionId);
    this.options = { ...DEFAULTS, ...options };
    this.lastEventId = Number(this.options.lastEventId) || 0;
    this.state = "offline";
    this.transport = null; // "websocket" | "longpoll" while live
    this.role = null; // "dm" | "player", from the WebSocket hello
    this.onlineUsers = [];
    this.audio = null;
    this._handlers = new Map();
    this._generation = 0;
    this._running = false;
    this._failures = 0; // consecutive failed attempts, for the back-off
    this._webSocketFailures = 0; // WebSockets that failed while plain HTTP worked
    this._pollingSince = null; // set while in long-poll fallback
    this._cancel = null; // aborts the current attempt or wait
    this._socket = null; // the live WebSocket, for `send`
  }

  on(type, handler) {
    if (!this._handlers.has(type)) this._handlers.set(type, new Set());
    this._handlers.get(type).add(handler);
    return () => this.off(type, handler);
  }

  off(type, handler) {
    const set = this._handlers.get(type);
    if (set) set.delete(handler);
  }

  onStateChange(handler) {
    return this.on("state", handler);
  }

  get stateLabel() {
    return STATE_LABELS[this.state];
  }

  start() {
    if (this._running) return this;
    this._running = true;
    const generation = ++this._generation;
    this._run(generation);
    return this;
  }

  stop() {
    this._running = false;
    this._generation++;
    if (this._cancel) this._cancel();
    this._setState("offline");
  }

  /** Drop the current connection and reconnect now (e.g. when the browser comes back online). */
  reconnectNow() {
    if (!this._running) return;
    this._failures = 0;
    if (this._cancel) this._cancel();
  }

  _active(generation) {
    return this._running && generation === this._generation;
  }

  async _run(generation) {
    while (this._active(generation)) {
      let outcome;
      if (this._wantsWebSocket()) {
        outcome = await this._webSocketAttempt(generation);
        if (!this._active(generation)) return;
        if (outcome.fatal) return this._fatal(outcome.fatal);
        if (outcome.live) {
          // It was live and dropped: reconnect soon, later if the server said it is full.
          this._setState("connecting");
          // 1013: the process is full; 4429: too many connections from this user or address.
          const busy = outcome.code === 1013 || outcome.code === 4429;
          const delay = outcome.code === 4408 ? 0 : this._backoff(busy ? 4 : 0);
          await this._wait(generation, delay);
          continue;
        }
        // Never got live. Is it the WebSocket, or is the server unreachable? Ask over plain HTTP.
        const probe = await this._poll(generation, 0);
        if (!this._active(generation)) return;
        if (probe.fatal) return this._fatal(probe.fatal);
        if (probe.ok) {
          this._webSocketFailures++;
          if (this.options.transport === "websocket" || this._webSocketFailures < this.options.webSocketFailuresBeforeFallback) {
            await this._wait(generation, this._backoff(0));
          } else {
            // Plain HTTP works and the WebSocket does not: live over long-poll from here.
            this._pollingSince = Date.now();
            this._failures = 0;
            this._setState("longpoll");
          }
          continue;
        }
        await this._offlineWait(generation);
        continue;
      }
      // The first poll after (re)connecting answers at once (catching up); then they wait for news.
      outcome = await this._poll(generation, this.state === "longpoll" ? this.options.pollTimeout : 0);
      if (!this._active(generation)) return;
      if (outcome.fatal) return this._fatal(outcome.fatal);
      if (outcome.ok) {
        this._failures = 0;
        this._setState("longpoll");
        if (this.options.transport === "auto" && this._pollingSince !== null &&
            Date.now() - this._pollingSince > this.options.retryWebSocketAfterMs) {
          // Give the WebSocket one more chance; one failure sends us back here.
          this._pollingSince = null;
          this._webSocketFailures = this.options.webSocketFailuresBeforeFallback - 1;
        }
        continue;
      }
      await this._offlineWait(generation);
    }
  }

  _wantsWebSocket() {
    if (this.options.transport === "longpoll" || typeof WebSocket === "undefined") return false;
    if (this.options.transport === "websocket") return true;
    return this._pollingSince === null;
  }

  async _offlineWait(generation) {
    this._setState("offline");
    await this._wait(generation, this._backoff(this._failures++));
    if (this._active(generation)) this._setState("connecting");
  }

  /** Full jitter over an exponential ceiling: many clients coming back after a restart spread out. */
  _backoff(attempt) {
    const ceiling = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** attempt);
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }

  _wait(generation, ms) {
    if (!this._active(generation) || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const online = () => done();
      function done() {
        clearTimeout(timer);
        window.removeEventListener("online", online);
        resolve();
      }
      window.addEventListener("online", online);
      this._cancel = done;
    });
  }

  _fatal(detail) {
    this._running = false;
    this._setState("offline");
    this._emit("closed", detail);
  }

  _webSocketAttempt(generation) {
    if (this.state !== "websocket" && this.state !== "longpoll") this._setState("connecting");
    return new Promise((resolve) => {
      let socket;
      let live = false;
      let lastError = null;
      let pingTimer = null;
      let pongTimer = null;
      let finished = false;
      const url = this.vtt.websocketUrl("realtime/ws", { session_id: this.sessionId, last_event_id: this.lastEventId });
      const finish = (result) => {
        if (finished) return;
        finished = true;
        if (this._socket === socket) this._socket = null;
        clearTimeout(openTimer);
        clearInterval(pingTimer);
        clearTimeout(pongTimer);
        if (socket) {
          socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
          if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) {
            try {
              socket.close(1000);
            } catch {
              /* already closing */
            }
          }
        }
        this._cancel = null;
        resolve({ live, ...result });
      };
      const openTimer = setTimeout(() => finish({ code: 0 }), this.options.openTimeoutMs);
      this._cancel = () => finish({ code: 0, cancelled: true });
      try {
        socket = new WebSocket(url);
      } catch {
        finish({ code: 0 });
        return;
      }
      socket.onmessage = (message) => {
        if (!this._active(generation)) return finish({ cancelled: true });
        clearTimeout(pongTimer);
        let frame;
        try {
          frame = JSON.parse(message.data);
        } catch {
          return;
        }
        if (frame.type === "hello") {
          live = true;
          clearTimeout(openTimer);
          this._failures = 0;
          this._webSocketFailures = 0;
          this._pollingSince = null;
          this._onHello(frame, Date.now());
          this._socket = socket;
          this._setState("websocket");
          pingTimer = setInterval(() => {
            try {
              socket.send(JSON.stringify({ type: "ping" }));
            } catch {
              return;
            }
            pongTimer = setTimeout(() => finish({ code: 0, stale: true }), this.options.pongTimeoutMs);
          }, this.options.pingIntervalMs);
        } else if (frame.type === "event") {
          this._deliver(frame, { replay: frame.event_id <= this._helloHead, receivedAt: Date.now() });
        } else if (frame.type === "ephemeral") {
          this._emit("ephemeral", frame.event_type, frame.event_data);
        } else if (frame.type === "presence") {
          this._setPresence(frame.online_users);
        } else if (frame.type === "error") {
          lastError = frame;
        }
      };
      socket.onclose = (event) => {
        const code = event.code;
        if (FATAL_CLOSE[code]) {
          finish({
            code,
            fatal: {
              code,
              error: (lastError && lastError.error) || FATAL_CLOSE[code],
              message: (lastError && lastError.message) || event.reason || "The server closed the connection",
            },
          });
        } else {
          finish({ code });
        }
      };
      socket.onerror = () => {
        /* onclose follows with the code */
      };
    });
  }

  send(frame) {
    const socket = this._socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  _onHello(frame, receivedAt) {
    this.role = frame.role;
    this.userId = frame.user_id;
    this._helloHead = frame.head_event_id;
    if (frame.head_event_id < this.lastEventId) {
      // The server's log is behind what we saw (a restored database): take its word.
      this.lastEventId = frame.head_event_id;
    }
    this._emit("hello", frame);
    this._setPresence(frame.online_users || []);
    if (frame.audio) {
      if (frame.audio.status === "playing" && frame.audio.updated_at) {
        this.vtt.noteServerTime(frame.audio.updated_at, receivedAt - 50, receivedAt);
      }
      this._setAudio(frame.audio, receivedAt, false);
    }
  }

  async _poll(generation, timeout) {
    const controller = new AbortController();
    const previousCancel = this._cancel;
    this._cancel = () => controller.abort();
    try {
      const data = await this.vtt.get(
        "realtime/poll.php",
        { session_id: this.sessionId, last_event_id: this.lastEventId, timeout },
        { signal: controller.signal, timeoutMs: (timeout + 6) * 1000 },
      );
      if (!this._active(generation)) return { ok: false };
      const receivedAt = Date.now();
      for (const event of data.events || []) this._deliver(event, { replay: null, receivedAt });
      this._setPresence(data.online_users || []);
      return { ok: true };
    } catch (error) {
      if (FATAL_STATUS.has(error.status) && !error.missingEndpoint) {
        return { ok: false, fatal: { code: error.status, error: error.code, message: error.message } };
      }
      return { ok: false, error };
    } finally {
      if (this._cancel && this._cancel !== previousCancel) this._cancel = null;
    }
  }

  _deliver(event, { replay, receivedAt }) {
    // Each event_id once, in order: a resumed connection may repeat what we already have.
    if (!(event.event_id > this.lastEventId)) return;
    this.lastEventId = event.event_id;
    const meta = { event_id: event.event_id, event_type: event.event_type, created_at: event.created_at, replay };
    if (event.event_type === "audio_control") {
      // Over a WebSocket the hello carried the audio state newer than any replayed event.
      if (replay !== true) this._setAudio(event.event_data, receivedAt, replay === null);
    }
    this._emit(event.event_type, event.event_data, meta);
    this._emit("*", { ...meta, event_data: event.event_data });
  }

  _setAudio(data, receivedAt, useServerClock) {
    let position = Number(data.position) || 0;
    if (useServerClock && data.status === "playing" && data.updated_at) {
      position += Math.max(0, this.vtt.serverNow() - data.updated_at);
    }
    this.audio = { ...data, position, anchor: receivedAt };
    this._emit("audio", this.audio);
  }

  _setPresence(users) {
    const key = (list) => list.map((user) => user.user_id).join(",");
    if (key(users) === key(this.onlineUsers)) return;
    this.onlineUsers = users;
    this._emit("presence", users);
  }

  _setState(state) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.transport = state === "websocket" || state === "longpoll" ? state : null;
    this._emit("state", state, previous);
  }

  _emit(type, ...args) {
    const set = this._handlers.get(type);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(...args);
      } catch (error) {
        console.error(`vtt: a "${type}" handler failed`, error);
      }
    }
  }
}
