// Components shared by the views: badges, progress, run summaries, change logs, pagers, confirm.

import { ERROR_FIELDS, gql } from "./api.js";
import { h, messageBox, plural, replace, timeEl, uid } from "./dom.js";

export const WORDS = {
  IT_DEPARTMENT: {
    mode: "IT department",
    site: "site",
    sites: "sites",
    Site: "Site",
    Sites: "Sites",
    user: "user",
    users: "users",
    User: "User",
    Users: "Users",
  },
  MSP: {
    mode: "Managed service provider",
    site: "customer",
    sites: "customers",
    Site: "Customer",
    Sites: "Customers",
    user: "contact",
    users: "contacts",
    User: "Contact",
    Users: "Contacts",
  },
};

/** The account, role and words of the signed-in key; set by app.js. */
export const ctx = {
  viewer: null,
  words: WORDS.IT_DEPARTMENT,
  get isAdmin() {
    return Boolean(this.viewer && this.viewer.role === "ADMIN");
  },
};

/** Disable a control for read-only keys, and say why. */
export function adminOnly(control) {
  if (!ctx.isAdmin) {
    control.disabled = true;
    control.title = "Needs an ADMIN key: this key may only read.";
  }
  return control;
}

const STATUS_WORDS = {
  PENDING: "Waiting for sign-in",
  CONNECTED: "Connected",
  NEEDS_REAUTH: "Sign-in needed",
  NEEDS_CONSENT: "Consent needed",
  DISCONNECTED: "Disconnected",
  QUEUED: "Queued",
  RUNNING: "Running",
  SUCCEEDED: "Succeeded",
  FAILED: "Failed",
  CANCELLED: "Cancelled",
  AWAITING_APPROVAL: "Waiting for approval",
};

const STATUS_TONE = {
  CONNECTED: "ok",
  SUCCEEDED: "ok",
  PENDING: "wait",
  QUEUED: "wait",
  RUNNING: "wait",
  NEEDS_REAUTH: "warn",
  NEEDS_CONSENT: "warn",
  AWAITING_APPROVAL: "warn",
  FAILED: "bad",
  DISCONNECTED: "off",
  CANCELLED: "off",
};

export function statusBadge(status) {
  return h("span", { class: `badge ${STATUS_TONE[status] || "off"}` }, STATUS_WORDS[status] || status);
}

export function entraMark() {
  return h(
    "span",
    { class: "entra-mark", title: "Imported from Microsoft Entra ID" },
    h("img", { src: "entra.svg", alt: "", width: "14", height: "14" }),
    "Entra ID",
  );
}

export function spinner(label) {
  return h("span", { class: "loading", role: "status" }, h("span", { class: "spin", "aria-hidden": "true" }), label);
}

const PHASES = {
  starting: "Starting",
  loading: "Reading the saved configuration",
  groups: "Reading group memberships",
  users: "Reading users from Entra ID",
  delta: "Reading what changed in Entra ID",
  joiners: "Checking users who joined the groups",
  done: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

export function phaseWords(phase) {
  return PHASES[phase] || phase || "Working";
}

/** A live progress bar for a run: {el, update(progress)}. */
export function progressPanel(title) {
  const titleId = uid("prog");
  const bar = h("div", { class: "bar-fill" });
  const track = h(
    "div",
    {
      class: "bar",
      role: "progressbar",
      "aria-labelledby": titleId,
      "aria-valuemin": "0",
      "aria-valuemax": "100",
    },
    bar,
  );
  const label = h("p", { class: "progress-label", "aria-live": "polite" }, "Starting…");
  const counts = h("p", { class: "progress-counts muted" });
  const heading = h("h3", { id: titleId }, title);
  const el = h("div", { class: "progress-panel" }, heading, track, label, counts);
  return {
    el,
    retitle(text) {
      replace(heading, text);
    },
    update(p) {
      const finished = p.status === "SUCCEEDED";
      const percent = finished ? 100 : p.percent;
      if (percent === null || percent === undefined) {
        track.classList.add("indeterminate");
        track.removeAttribute("aria-valuenow");
        bar.style.width = "";
      } else {
        track.classList.remove("indeterminate");
        track.setAttribute("aria-valuenow", String(Math.round(percent)));
        track.setAttribute("aria-valuetext", `${Math.round(percent)}%`);
        bar.style.width = `${percent}%`;
      }
      track.classList.toggle("failed", p.status === "FAILED" || p.status === "CANCELLED");
      track.classList.toggle("paused", p.status === "AWAITING_APPROVAL");
      const pct = percent === null || percent === undefined ? "" : ` — ${Math.round(percent)}%`;
      let text = `${phaseWords(p.phase)}${pct}`;
      if (p.status === "SUCCEEDED") text = "Finished — 100%";
      if (p.status === "FAILED") text = `Failed: ${p.errorMessage || "the run stopped"}`;
      if (p.status === "CANCELLED") text = "Cancelled";
      if (p.status === "AWAITING_APPROVAL") text = "Paused: waiting for an admin to apply or discard the changes";
      replace(label, text);
      const of = p.total ? ` of ${p.total.toLocaleString("en")}` : "";
      // A paused run counted what it would do, like a preview.
      const would = p.dryRun || p.status === "AWAITING_APPROVAL";
      replace(
        counts,
        `${p.fetched.toLocaleString("en")}${of} users read · ${p.created} ${would ? "to create" : "created"} · ` +
          `${p.updated} ${would ? "to update" : "updated"} · ${p.unchanged} unchanged · ` +
          `${p.skippedByFilter + p.skippedUnmapped + p.errors} skipped`,
      );
    },
  };
}

/** The counters of a finished run as tiles; `would` words them as what it would do. */
export function runSummary(run, { would = run.dryRun } = {}) {
  const dry = would;
  const tiles = [
    [dry ? "Would create" : "Created", run.created, "create"],
    [dry ? "Would update" : "Updated", run.updated, "update"],
    ["Unchanged", run.unchanged, "same"],
    ["Skipped by filters", run.skippedByFilter, "skipped"],
    [`Not mapped to a ${ctx.words.site}`, run.skippedUnmapped, "skipped"],
    ["Skipped for bad data", run.errors, run.errors ? "bad" : "skipped"],
  ];
  return h(
    "dl",
    { class: "tiles" },
    tiles.map(([label, value, tone]) =>
      h("div", { class: `tile ${tone}` }, h("dt", {}, label), h("dd", {}, Number(value).toLocaleString("en"))),
    ),
  );
}

export const TRIM_REASONS = {
  TRUNCATED: "A value was longer than the field allows and was cut.",
  CONTROL_CHARACTERS: "Control characters or invalid code points were removed.",
};

export const REASONS = {
  FILTERED_USER_TYPE: "Its user type (member or guest) is not one this connection imports.",
  FILTERED_GROUP: "It is not a member of the groups this connection imports.",
  UNMAPPED: "Its office or department is not mapped to a site.",
  NO_EMAIL: "It has no email address to match on.",
  INVALID_EMAIL: "Its email is not a valid address.",
  DUPLICATE_EMAIL: "Another Entra user has the same email (ignoring case).",
  AMBIGUOUS_MATCH: "Several users of the account have this email in other sites; none was changed.",
  EMAIL_CONFLICT: "Entra changed its email to one another user of its site already has.",
  LINKED_TO_OTHER_TENANT: "The user with this email is synced from another tenant.",
  INVALID_ID: "Microsoft sent an unusable object id.",
};

const FIELD_WORDS = {
  email: "Email",
  first_name: "First name",
  last_name: "Last name",
  job_title: "Job title",
  phone: "Phone",
  mobile: "Mobile",
  user_type: "User type",
  account_enabled: "Enabled",
  entra_object_id: "Entra object id",
};

function actionLabel(action, dry) {
  const words = ACTION_WORDS[action];
  if (!words) return action;
  return dry && action !== "REMOVED" ? `Would ${words[0].toLowerCase()}` : words[1];
}

export const ACTION_WORDS = {
  CREATE: ["Create", "Created"],
  UPDATE: ["Update", "Updated"],
  SKIP: ["Skip", "Skipped"],
  REMOVED: ["Removed", "Removed in Entra"],
  INACTIVE: ["Mark inactive", "Marked inactive"],
  ACTIVE: ["Reactivate", "Reactivated"],
  REVIEW: ["Send to review", "Sent to review"],
};

/** Why a lifecycle policy marked an end user inactive (models InactiveReason). */
export const INACTIVE_REASONS = {
  DISABLED: "Its account is disabled in Entra ID.",
  SOFT_DELETED: "It was deleted in Entra ID (restorable for 30 days).",
  DELETED: "It was permanently deleted in Entra ID, or a full sync no longer found it.",
  OUT_OF_SCOPE: "It left the groups, mapped values or user types this connection imports.",
  MANUAL: "It was marked inactive in the product.",
};

const LIFECYCLE_WORDS = {
  INACTIVE: "Kept in the product, marked inactive (never deleted).",
  ACTIVE: "Back in scope in Entra ID: active again.",
  REVIEW: "Not decided automatically: it waits in the review queue.",
};

function shown(value) {
  if (value === "" || value === null || value === undefined) return "(empty)";
  return String(value);
}

/** "Field: old → new" items of an entry's changes (trims left out). */
function fieldItems(changes) {
  return Object.entries(changes)
    .filter(([name]) => name !== "trims")
    .map(([name, pair]) => {
      const [before, after] = Array.isArray(pair) ? pair : ["", pair];
      return h("li", {}, h("span", { class: "muted" }, `${FIELD_WORDS[name] || name}: `), h("del", {}, shown(before)), " → ", h("ins", {}, shown(after)));
    });
}

/** INACTIVE, ACTIVE, REVIEW: what happened, why (with the code), and any field changes. */
function lifecycleDetails(entry, changes) {
  const why = entry.reason ? INACTIVE_REASONS[entry.reason] || entry.reasonMessage || "" : "";
  const items = fieldItems(changes);
  return h(
    "span",
    {},
    LIFECYCLE_WORDS[entry.action],
    why ? ` ${why}` : "",
    entry.reason ? h("code", { class: "reason-code" }, entry.reason) : null,
    items.length ? h("ul", { class: "changes" }, items) : null,
  );
}

function entryDetails(entry, siteName) {
  const changes = entry.changes && typeof entry.changes === "object" ? entry.changes : {};
  if (LIFECYCLE_WORDS[entry.action]) return lifecycleDetails(entry, changes);
  if (entry.action === "SKIP") {
    return h(
      "span",
      {},
      REASONS[entry.reason] || entry.reason || "Skipped.",
      h("code", { class: "reason-code" }, entry.reason),
    );
  }
  if (entry.action === "REMOVED") {
    return h("span", {}, "Deleted or moved out of scope in Entra ID; the user in the product is left as it is.");
  }
  const trims = Array.isArray(changes.trims) ? changes.trims : [];
  const items = Object.entries(changes)
    .filter(([name]) => name !== "trims" && !(entry.action === "CREATE" && name === "email"))
    .map(([name, pair]) => {
      const [before, after] = Array.isArray(pair) ? pair : ["", pair];
      const label = FIELD_WORDS[name] || name;
      if (entry.action === "CREATE") return h("li", {}, h("span", { class: "muted" }, `${label}: `), shown(after));
      return h("li", {}, h("span", { class: "muted" }, `${label}: `), h("del", {}, shown(before)), " → ", h("ins", {}, shown(after)));
    });
  if (entry.action === "CREATE" && siteName) items.unshift(h("li", { class: "into" }, `Into ${siteName}`));
  for (const note of trims) {
    const [name, why, length] = String(note).split(":");
    const label = (FIELD_WORDS[name] || name).toLowerCase();
    const text = why === "TRUNCATED" ? `${label} cut to fit (Entra sent ${length} characters)` : `control characters removed from ${label}`;
    items.push(h("li", { class: "trim" }, `Trimmed: ${text}`));
  }
  return items.length ? h("ul", { class: "changes" }, items) : h("span", { class: "muted" }, "—");
}

const CHANGELOG_QUERY = `query($run: ID!, $action: ChangeAction, $reason: String, $first: Int, $after: String) {
  changeLog(runId: $run, action: $action, reason: $reason, first: $first, after: $after) {
    nodes { id action email displayName siteId endUserId reason reasonMessage changes }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** One page of a run's change log. */
export async function changeLogPage(runId, { action = null, reason = null, first = 50, after = null } = {}) {
  const data = await gql(CHANGELOG_QUERY, { run: runId, action, reason: reason || null, first, after });
  return data.changeLog;
}

/** A table of change log entries; `siteNames` maps site ids to names. */
export function changeLogTable(entries, siteNames, caption, { dry = false } = {}) {
  if (!entries.length) return h("p", { class: "empty" }, "No entries.");
  return h(
    "table",
    { class: "list changelog" },
    caption ? h("caption", { class: "visually-hidden" }, caption) : null,
    h(
      "thead",
      {},
      h("tr", {}, h("th", { scope: "col" }, "What"), h("th", { scope: "col" }, "Person"), h("th", { scope: "col" }, "Details")),
    ),
    h(
      "tbody",
      {},
      entries.map((e) =>
        h(
          "tr",
          {},
          h("td", {}, h("span", { class: `action ${e.action.toLowerCase()}` }, actionLabel(e.action, dry))),
          h("td", {}, h("div", { class: "name" }, e.displayName || "(no name)"), h("div", { class: "muted small" }, e.email || "(no email)")),
          h("td", {}, entryDetails(e, e.siteId ? siteNames.get(e.siteId) : null)),
        ),
      ),
    ),
  );
}

/**
 * A change log list that loads `first` entries and offers "Show more".
 * Returns {el, load()}.
 */
export function changeLogList(runId, filter, siteNames, caption, { first = 50, dry = false } = {}) {
  const box = messageBox();
  const body = h("div", {}, spinner("Loading the change log…"));
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more");
  const el = h("div", { class: "changelog-list" }, box.el, body, more);
  let entries = [];
  let cursor = null;
  async function load() {
    try {
      const page = await changeLogPage(runId, { ...filter, first, after: cursor });
      entries = entries.concat(page.nodes);
      cursor = page.pageInfo.endCursor;
      replace(body, changeLogTable(entries, siteNames, caption, { dry }));
      more.hidden = !page.pageInfo.hasNextPage;
    } catch (err) {
      replace(body);
      box.error(err.message);
    }
  }
  more.addEventListener("click", async () => {
    more.disabled = true;
    await load();
    more.disabled = false;
  });
  return { el, load };
}

/** Previous/next over Relay cursors (the API pages forward; we keep the cursors we passed). */
export function pager(onPage) {
  const stack = [null];
  const prev = h("button", { type: "button", class: "secondary" }, "← Previous");
  const next = h("button", { type: "button", class: "secondary" }, "Next →");
  const where = h("span", { class: "muted", "aria-live": "polite" });
  const el = h("nav", { class: "pager", "aria-label": "Pages" }, prev, where, next);
  let endCursor = null;
  prev.addEventListener("click", () => {
    if (stack.length > 1) stack.pop();
    onPage(stack[stack.length - 1]);
  });
  next.addEventListener("click", () => {
    stack.push(endCursor);
    onPage(endCursor);
  });
  return {
    el,
    reset() {
      stack.length = 1;
    },
    get after() {
      return stack[stack.length - 1];
    },
    show(pageInfo, count) {
      endCursor = pageInfo.endCursor;
      prev.disabled = stack.length <= 1;
      next.disabled = !pageInfo.hasNextPage;
      replace(where, `Page ${stack.length}${count !== undefined ? ` · ${plural(count, "row", "rows")}` : ""}`);
      el.hidden = stack.length <= 1 && !pageInfo.hasNextPage;
    },
  };
}

/** A modal confirmation; resolves true when confirmed. Cancel has the focus first. */
export function confirmDialog({ title, body, confirm, danger = true }) {
  return new Promise((resolve) => {
    const titleId = uid("dlg");
    const cancelBtn = h("button", { type: "button", class: "secondary", autofocus: true }, "Cancel");
    const okBtn = h("button", { type: "button", class: danger ? "danger" : "primary" }, confirm);
    const dialog = h(
      "dialog",
      { class: "confirm", "aria-labelledby": titleId },
      h("h2", { id: titleId }, title),
      Array.isArray(body) ? body.map((p) => h("p", {}, p)) : h("p", {}, body),
      h("div", { class: "actions" }, cancelBtn, okBtn),
    );
    const finish = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    cancelBtn.addEventListener("click", () => finish(false));
    okBtn.addEventListener("click", () => finish(true));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelBtn.focus();
  });
}

/** Every site of the account (pages of 100), as an id→name map plus the ordered list. */
export async function loadAllSites() {
  const list = [];
  let after = null;
  for (let i = 0; i < 50; i += 1) {
    const data = await gql(
      `query($after: String) { sites(first: 100, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } } }`,
      { after },
    );
    list.push(...data.sites.nodes);
    if (!data.sites.pageInfo.hasNextPage) break;
    after = data.sites.pageInfo.endCursor;
  }
  return { list, names: new Map(list.map((s) => [s.id, s.name])) };
}

export const CONNECTION_FIELDS = `id scope authMode status statusMessage tenantId tenantName connectedBy connectedAt
  syncIntervalMinutes nextSyncAt createdAt reviewWaiting site { id name }
  configuration { configuredAt classification groupFilter selectedGroupIds userTypes matchAttribute
    mappings { value site { id name } } }`;

export const RUN_FIELDS = `id connectionId status trigger dryRun phase fetched created updated unchanged
  skippedByFilter skippedUnmapped errors total percent errorMessage createdAt startedAt finishedAt`;

/** The mass-change guard's figures of a run (null when the guard did not check it). */
export const MASS_CHANGE_FIELDS = "massChange { importedUsers affectedUsers share threshold tripped approvedAt }";

/** A share (0 to 1) as the server words it: "81%", "0.4%". */
export function percentWords(share) {
  const pct = share * 100;
  return pct >= 1 || pct === 0 ? `${Math.round(pct)}%` : `${pct.toPrecision(1)}%`;
}

export function intervalWords(minutes) {
  if (!minutes) return "Off";
  if (minutes % 10080 === 0) return minutes === 10080 ? "Every week" : `Every ${minutes / 10080} weeks`;
  if (minutes % 1440 === 0) return minutes === 1440 ? "Every day" : `Every ${minutes / 1440} days`;
  if (minutes % 60 === 0) return minutes === 60 ? "Every hour" : `Every ${minutes / 60} hours`;
  return `Every ${minutes} minutes`;
}

export { ERROR_FIELDS, timeEl };
