// VTTClient: a small ES-module client of the platform API (/v1), for browsers and Node.js 18+.
// No dependencies, no build step. README.md ("Platform API") is the reference for every call.
//
//   import { VTTClient } from './vtt-client.js';
//   const client = new VTTClient({ apiKey: 'vtt_live_...', baseURL: 'https://vtt.example.com/v1' });
//   await client.auth.login('user@example.com', 'password');   // optional with an API key
//   const campaign = await client.campaigns.create({ name: 'Lost Mine', system: 'dnd5e' });
//   const asset = await client.assets.upload({ file: blob, type: 'map', name: 'Goblin Ambush Map' });
//   const subscription = client.sessions.subscribe(12, { onEvent: (event) => console.log(event) });
//   subscription.close();

/** An error answer of the API: `code` is its `error`, `details` its field errors. */
export class VTTError extends Error {
  constructor(status, body, headers) {
    super((body && body.message) || `HTTP ${status}`);
    this.name = 'VTTError';
    this.status = status;
    this.code = (body && body.error) || 'error';
    this.details = (body && body.details) || [];
    this.retryAfter = headers && headers.get('retry-after') ? Number(headers.get('retry-after')) : null;
  }
}

const POLL_TIMEOUT_SECONDS = 25;
const MAX_BACKOFF_MS = 30000;

export class VTTClient {
  /**
   * @param {object} options
   * @param {string} [options.apiKey] an API key (`vtt_live_...`), sent as a bearer
   * @param {string} [options.token] a session token from an earlier login
   * @param {string} [options.baseURL] the API's base, ending in /v1 (default: this page's origin + /v1)
   * @param {Function} [options.fetch] a fetch implementation (default: the global one)
   */
  constructor({ apiKey = null, token = null, baseURL = null, fetch: fetchImpl = null } = {}) {
    const origin = typeof location !== 'undefined' ? location.origin : 'http://127.0.0.1:8000';
    this.baseURL = (baseURL || `${origin}/v1`).replace(/\/+$/, '');
    this.origin = new URL(this.baseURL).origin;
    this.credential = token || apiKey;
    this.expiresAt = null;
    /** The last quota seen: {limit, remaining, reset, burstLimit, burstRemaining, burstReset}. */
    this.rateLimit = null;
    this._fetch = fetchImpl || globalThis.fetch.bind(globalThis);

    this.auth = {
      login: async (identifier, password) => {
        const answer = await this.request('POST', '/auth/login', { identifier, password });
        this.credential = answer.token;
        this.expiresAt = answer.expires_at;
        return answer;
      },
      refresh: async () => {
        const answer = await this.request('POST', '/auth/refresh');
        this.credential = answer.token;
        this.expiresAt = answer.expires_at;
        return answer;
      },
      logout: async () => {
        await this.request('POST', '/auth/logout');
        this.credential = null;
      },
    };
    this.users = {
      me: () => this.request('GET', '/users/me'),
      update: (changes) => this.request('PATCH', '/users/me', changes),
      changePassword: (currentPassword, newPassword) =>
        this.request('POST', '/users/me/password', { current_password: currentPassword, new_password: newPassword }),
    };
    this.apiKeys = {
      create: ({ name, scope = 'write' }) => this.request('POST', '/api-keys', { name, scope }),
      list: (params = {}) => this.request('GET', '/api-keys', null, params),
      revoke: (id) => this.request('DELETE', `/api-keys/${encodeURIComponent(id)}`),
    };
    this.campaigns = {
      create: ({ name, system, description }) => this.request('POST', '/campaigns', { name, system, description }),
      list: (params = {}) => this.request('GET', '/campaigns', null, params),
      get: (id) => this.request('GET', `/campaigns/${encodeURIComponent(id)}`),
      update: (id, changes) => this.request('PATCH', `/campaigns/${encodeURIComponent(id)}`, changes),
      delete: (id) => this.request('DELETE', `/campaigns/${encodeURIComponent(id)}`),
      members: (id) => this.request('GET', `/campaigns/${encodeURIComponent(id)}/members`),
      addMember: (id, { username, role = 'player' }) =>
        this.request('POST', `/campaigns/${encodeURIComponent(id)}/members`, { username, role }),
      removeMember: (id, userId) =>
        this.request('DELETE', `/campaigns/${encodeURIComponent(id)}/members/${encodeURIComponent(userId)}`),
      sessions: (id) => this.request('GET', `/campaigns/${encodeURIComponent(id)}/sessions`),
    };
    this.assets = {
      /** `file` is a Blob or File; `type` comes first in the form so the server applies its size limit early. */
      upload: ({ file, type, name }) => {
        const form = new FormData();
        form.append('type', type);
        if (name) form.append('name', name);
        form.append('file', file, file.name || name || 'upload');
        return this.request('POST', '/assets', form);
      },
      list: (params = {}) => this.request('GET', '/assets', null, params),
      get: (id) => this.request('GET', `/assets/${encodeURIComponent(id)}`),
      delete: (id) => this.request('DELETE', `/assets/${encodeURIComponent(id)}`),
      /** The absolute URL of an asset's bytes. */
      url: (asset) => new URL(asset.url, this.origin).href,
    };
    this.sessions = {
      subscribe: (sessionId, handlers) => this._subscribe(sessionId, handlers),
    };
  }

  _headers(extra = {}) {
    const headers = { Accept: 'application/json', ...extra };
    if (this.credential) headers.Authorization = `Bearer ${this.credential}`;
    return headers;
  }

  _remember(headers) {
    if (!headers.get('x-ratelimit-limit')) return;
    const number = (name) => Number(headers.get(name));
    this.rateLimit = {
      limit: number('x-ratelimit-limit'),
      remaining: number('x-ratelimit-remaining'),
      reset: number('x-ratelimit-reset'),
      burstLimit: number('x-ratelimit-burst-limit'),
      burstRemaining: number('x-ratelimit-burst-remaining'),
      burstReset: number('x-ratelimit-burst-reset'),
    };
  }

  /** One call of the API: resolves to the answer's JSON (null for 204), rejects with a VTTError. */
  async request(method, path, body = null, params = null) {
    const url = new URL(this.baseURL + path);
    for (const [key, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
    }
    const isForm = typeof FormData !== 'undefined' && body instanceof FormData;
    const init = { method, headers: this._headers(body && !isForm ? { 'Content-Type': 'application/json' } : {}) };
    if (body) init.body = isForm ? body : JSON.stringify(body);
    const response = await this._fetch(url.href, init);
    this._remember(response.headers);
    const text = await response.text();
    const answer = text ? JSON.parse(text) : null;
    if (!response.ok) throw new VTTError(response.status, answer, response.headers);
    return answer;
  }

  /**
   * Follow a game session's events over long-poll (works wherever fetch does, with a bearer), resuming
   * from the last event_id after any error, with jittered back-off. Returns {close()}.
   * @param {number} sessionId
   * @param {{onEvent: Function, onError?: Function, lastEventId?: number}} handlers
   */
  _subscribe(sessionId, { onEvent, onError = null, lastEventId = 0 }) {
    let closed = false;
    let cursor = lastEventId;
    let controller = null;
    const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    const loop = async () => {
      let failures = 0;
      while (!closed) {
        controller = new AbortController();
        const url = new URL('/api/realtime/poll.php', this.origin);
        url.searchParams.set('session_id', String(sessionId));
        url.searchParams.set('last_event_id', String(cursor));
        url.searchParams.set('timeout', String(POLL_TIMEOUT_SECONDS));
        try {
          const response = await this._fetch(url.href, { headers: this._headers(), signal: controller.signal });
          const body = await response.json();
          if (!response.ok) throw new VTTError(response.status, { error: body.error, message: body.message }, response.headers);
          failures = 0;
          for (const event of body.data.events) {
            cursor = Math.max(cursor, event.event_id);
            if (!closed) onEvent(event);
          }
        } catch (error) {
          if (closed) return;
          if (onError) onError(error);
          if (error instanceof VTTError && [401, 403, 404].includes(error.status)) return; // will not heal
          failures += 1;
          const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures);
          await pause(Math.random() * ceiling);
        }
      }
    };
    loop();
    return {
      get lastEventId() {
        return cursor;
      },
      close() {
        closed = true;
        if (controller) controller.abort();
      },
    };
  }
}
