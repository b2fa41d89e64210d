// Tiny DOM helpers. Text always goes in through textContent, never innerHTML.

/**
 * h("button", {class: "primary", onclick: fn}, "Save") builds an element.
 * Attributes: `class`, `dataset`, `on<event>` listeners, booleans (true sets, false omits),
 * everything else via setAttribute. Children: strings, nodes, arrays, null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name === "value") {
      el.value = value;
    } else if (name === "checked" || name === "selected" || name === "disabled") {
      el[name] = Boolean(value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}

let idCounter = 0;
/** A fresh element id, to tie labels, descriptions and regions together. */
export function uid(prefix = "f") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field: returns {wrap, input}. */
export function field(label, input, hint) {
  const id = input.id || uid("in");
  input.id = id;
  const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) input.setAttribute("aria-describedby", hintEl.id);
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), input, hintEl);
  return { wrap, input };
}

/** A region that shows an error (role=alert) or a status (role=status) in place. */
export function messageBox() {
  const el = h("div", { class: "message", hidden: true });
  return {
    el,
    error(text) {
      el.className = "message error";
      el.setAttribute("role", "alert");
      replace(el, text);
      el.hidden = false;
    },
    info(text) {
      el.className = "message info";
      el.setAttribute("role", "status");
      replace(el, text);
      el.hidden = false;
    },
    clear() {
      el.hidden = true;
      clear(el);
    },
  };
}

/** Run `work` with `button` disabled and marked busy; errors go to `box`. */
export async function busy(button, box, work) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  if (box) box.clear();
  try {
    return await work();
  } catch (err) {
    if (box) box.error(err.message || String(err));
    else throw err;
    return undefined;
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "3 minutes ago" / "in 2 hours"; the exact time is for a title attribute. */
export function relativeTime(iso) {
  if (!iso) return "";
  const then = new Date(iso).getTime();
  const seconds = Math.round((then - Date.now()) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? "just now" : "in a few seconds";
  if (abs < 3600) return rtf.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(seconds / 3600), "hour");
  return rtf.format(Math.round(seconds / 86400), "day");
}

export function timeEl(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  return h("time", { datetime: iso, title: new Date(iso).toLocaleString() }, relativeTime(iso));
}

export function plural(n, one, many) {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

/** An API message as a sentence: capitalised, ending with a full stop. */
export function sentence(text) {
  const t = String(text || "").trim();
  if (!t) return t;
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?)]$/.test(first) ? first : `${first}.`;
}
