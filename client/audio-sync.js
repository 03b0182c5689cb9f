// Plays the game session's music in step with the DM's controls. Browsers allow sound only after a click
// on the page, so `unlock()` is called from the "Enable sound" button; until then `needsGesture` is true.

export class AudioSync {
  constructor(element, { onChange } = {}) {
    this.el = element;
    this.state = null;
    this.unlocked = false;
    this.blocked = false; // the browser refused to play: a click is needed
    this.onChange = onChange || (() => {});
    this.el.addEventListener("loadedmetadata", () => this.apply());
    for (const type of ["play", "pause", "ended", "error"]) this.el.addEventListener(type, () => this.onChange(this));
  }

  get needsGesture() {
    return !this.unlocked || this.blocked;
  }

  /** Call from a click handler. */
  unlock() {
    this.unlocked = true;
    this.blocked = false;
    if (this.el.src && this.state && this.state.status === "playing") {
      this.apply();
    } else if (this.el.src) {
      // Safari unlocks per element: a muted play inside the gesture.
      this.el.muted = true;
      this.el.play().then(() => {
        this.el.pause();
        this.el.muted = false;
        this.apply();
      }, () => {
        this.el.muted = false;
      });
    }
    this.onChange(this);
  }

  set(state) {
    this.state = state;
    this.apply();
  }

  apply() {
    const state = this.state;
    const el = this.el;
    if (!state) return;
    el.loop = Boolean(state.loop);
    el.volume = Math.max(0, Math.min(1, (Number(state.volume) || 0) / 100));
    if (!state.track_url || state.status === "stopped") {
      el.pause();
      if (el.readyState > 0) el.currentTime = 0;
      this.onChange(this);
      return;
    }
    const src = new URL(state.track_url, window.location.href).href;
    if (el.src !== src) {
      el.src = src;
      el.load();
    }
    const elapsed = state.status === "playing" ? (Date.now() - state.anchor) / 1000 : 0;
    let target = Math.max(0, (Number(state.position) || 0) + elapsed);
    if (el.readyState > 0 && Number.isFinite(el.duration) && el.duration > 0) {
      if (state.loop) target %= el.duration;
      else if (target >= el.duration) {
        // The track has already ended for everyone else.
        el.pause();
        el.currentTime = el.duration;
        this.onChange(this);
        return;
      }
      if (Math.abs(el.currentTime - target) > 0.75) el.currentTime = target;
    }
    if (state.status === "playing") {
      if (!this.unlocked) {
        this.onChange(this);
        return;
      }
      const started = el.play();
      if (started) {
        started.then(() => {
          this.blocked = false;
          this.onChange(this);
        }, (error) => {
          if (error && error.name === "NotAllowedError") this.blocked = true;
          this.onChange(this);
        });
      }
    } else {
      el.pause();
    }
    this.onChange(this);
  }

  get playing() {
    return !this.el.paused && !this.el.ended;
  }
}
