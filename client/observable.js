// A state that screens watch: `changed()` after any change, and every handler runs once for a burst of
// them, when `schedule` runs the notification (a microtask for the table, the next frame for the map).

export class Observable {
  constructor(schedule) {
    this._schedule = schedule;
    this._listeners = new Set();
    this._scheduled = false;
  }

  onChange(handler) {
    this._listeners.add(handler);
    return () => this._listeners.delete(handler);
  }

  changed() {
    if (this._scheduled) return;
    this._scheduled = true;
    this._schedule(() => {
      this._scheduled = false;
      for (const handler of [...this._listeners]) handler(this);
    });
  }
}
