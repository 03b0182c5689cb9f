// Small DOM helpers: element builder, keyed list updates (so streaming events never steal focus or
// jump the layout), form submission with the API's error messages shown next to the fields.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function setText(el, text) {
  const value = String(text ?? "");
  if (el.textContent !== value) el.textContent = value;
}

/** Keep `container`'s children in step with `items`: create new ones, update kept ones in place, drop gone ones. */
export function syncList(container, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of [...container.children]) if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  let cursor = container.firstElementChild;
  for (const item of items) {
    const key = String(keyOf(item));
    let el = existing.get(key);
    if (el) existing.delete(key);
    else {
      el = create(item);
      el.dataset.key = key;
    }
    update(el, item);
    if (el !== cursor) container.insertBefore(el, cursor);
    else cursor = cursor.nextElementSibling;
  }
  for (const el of existing.values()) el.remove();
}

let fieldIds = 0;

/** A labelled form field. `control` is an input/select; returns the wrapper. */
export function field(labelText, control, hint) {
  if (!control.id) control.id = `f${++fieldIds}`;
  const error = h("p", { class: "field-error", id: `${control.id}-error`, "aria-live": "polite" });
  const describedBy = [error.id];
  let hintEl = null;
  if (hint) {
    hintEl = h("p", { class: "hint", id: `${control.id}-hint` }, hint);
    describedBy.push(hintEl.id);
  }
  control.setAttribute("aria-describedby", describedBy.join(" "));
  return h("div", { class: "field" }, h("label", { for: control.id }, labelText), control, hintEl, error);
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  const banner = form.querySelector(".form-error");
  if (banner) {
    banner.textContent = "";
    banner.hidden = true;
  }
}

/** Show an ApiError on a form: its `message` on top, each of its field `errors` under that field. */
export function showErrors(form, error) {
  clearErrors(form);
  let banner = form.querySelector(".form-error");
  if (!banner) {
    banner = h("div", { class: "form-error", role: "alert", tabindex: "-1" });
    const heading = form.querySelector(":scope > h1, :scope > h2");
    if (heading) heading.after(banner);
    else form.prepend(banner);
  }
  const unplaced = [];
  for (const [name, message] of Object.entries(error.errors || {})) {
    const control = form.elements.namedItem(name);
    const target = control && control.id ? document.getElementById(`${control.id}-error`) : null;
    if (target) {
      target.textContent = message;
      control.setAttribute("aria-invalid", "true");
    } else unplaced.push(message);
  }
  banner.hidden = false;
  banner.replaceChildren(h("strong", {}, error.message || "Something went wrong"));
  if (unplaced.length) banner.append(h("ul", {}, unplaced.map((text) => h("li", {}, text))));
  const firstInvalid = form.querySelector("[aria-invalid=true]");
  (firstInvalid || banner).focus?.();
}

/** Submit handler: disables the form's buttons while the call runs, shows errors, calls `done` on success. */
export function onSubmit(form, action, done) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (form.dataset.busy) return;
    form.dataset.busy = "1";
    const buttons = [...form.querySelectorAll("button")];
    for (const button of buttons) button.disabled = true;
    clearErrors(form);
    try {
      const result = await action(new FormData(form));
      clearError();
      if (done) await done(result);
    } catch (error) {
      showErrors(form, error);
    } finally {
      delete form.dataset.busy;
      for (const button of buttons) button.disabled = false;
    }
  });
  return form;
}

/** Run a button's action with the button disabled; errors go to the status area. */
export async function busy(button, action) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    const result = await action();
    clearError();
    return result;
  } catch (error) {
    announce(error.message || "Something went wrong", "error", error);
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

let toastTimer = null;

/** An error shown in the status area goes once the next action succeeds: it no longer describes the table. */
export function clearError() {
  const region = document.getElementById("status");
  if (region && !region.hidden && region.classList.contains("error")) {
    clearTimeout(toastTimer);
    region.hidden = true;
  }
}

/** A message in the fixed status area (never pushes the page around). */
export function announce(message, kind = "info", error) {
  const region = document.getElementById("status");
  if (!region) return;
  const details = error && error.errors ? Object.values(error.errors) : [];
  region.className = `status ${kind}`;
  region.replaceChildren(h("span", {}, message));
  if (details.length) region.append(h("span", { class: "details" }, ` — ${details.join("; ")}`));
  region.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    region.hidden = true;
  }, kind === "error" ? 8000 : 4000);
}

export function hpBar(current, max) {
  const fill = h("div", { class: "hp-fill" });
  const bar = h("div", { class: "hp-bar", role: "meter", "aria-valuemin": "0" }, fill);
  updateHpBar(bar, current, max);
  return bar;
}

export function updateHpBar(bar, current, max) {
  const ratio = max > 0 ? Math.max(0, Math.min(1, current / max)) : 0;
  bar.setAttribute("aria-valuenow", String(current));
  bar.setAttribute("aria-valuemax", String(max));
  bar.setAttribute("aria-label", `Hit points ${current} of ${max}`);
  bar.firstElementChild.style.width = `${Math.round(ratio * 100)}%`;
  bar.dataset.level = current <= 0 ? "down" : ratio <= 0.25 ? "low" : ratio <= 0.5 ? "hurt" : "ok";
}
