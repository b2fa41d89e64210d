// entrasync console: the shell, the router and the views. Talks only to the public GraphQL API.

import { ApiError, ERROR_FIELDS, expect, followRun, gql, hooks, PAUSED, session, subscriptions, TERMINAL } from "./api.js";
import { busy, field, h, messageBox, plural, replace, sentence, timeEl, uid } from "./dom.js";
import {
  ACTION_WORDS,
  adminOnly,
  changeLogPage,
  changeLogTable,
  CONNECTION_FIELDS,
  confirmDialog,
  ctx,
  entraMark,
  INACTIVE_REASONS,
  intervalWords,
  loadAllSites,
  MASS_CHANGE_FIELDS,
  pager,
  percentWords,
  progressPanel,
  REASONS,
  RUN_FIELDS,
  runSummary,
  spinner,
  statusBadge,
  WORDS,
} from "./ui.js";
import { explainCard, POLICY_FIELDS, policiesCard, reviewCard } from "./policies.js";
import { wizardView } from "./wizard.js";

const top = document.getElementById("top");
const main = document.getElementById("main");

// --- routing ------------------------------------------------------------------------------

let leaveHandlers = [];
/** Register cleanup (stop polling, close subscriptions) for when the view changes. */
export function onLeave(fn) {
  leaveHandlers.push(fn);
}

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/connections";
  const [path, query] = raw.split("?");
  return { parts: path.split("/").filter(Boolean), params: new URLSearchParams(query || "") };
}

export function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render() {
  for (const fn of leaveHandlers) {
    try {
      fn();
    } catch {
      /* a cleanup must not stop the next view */
    }
  }
  leaveHandlers = [];
  if (!session.key || !ctx.viewer) {
    renderSignIn();
    return;
  }
  const { parts, params } = parseHash();
  renderTop(parts[0]);
  // Each view draws into its own container: a slower, older view that finishes late writes
  // into a detached node and cannot mix with the current one.
  const root = h("div", { class: "view" });
  replace(main, root);
  const [section, id, sub] = parts;
  try {
    if (section === "connections" && id && sub === "setup") await wizardView(root, id, { onLeave, go });
    else if (section === "connections" && id) await connectionView(root, id);
    else if (section === "runs" && id) await runView(root, id);
    else if (section === "sites") await sitesView(root, params);
    else if (section === "users") await usersView(root, params);
    else await connectionsView(root);
  } catch (err) {
    if (!ctx.viewer) return; // signed out meanwhile (the key was refused)
    const box = messageBox();
    box.error(err.message || String(err));
    replace(root, h("h1", { tabindex: "-1" }, "Something went wrong"), box.el,
      h("button", { type: "button", class: "secondary", onclick: () => render() }, "Try again"));
  }
  const heading = main.querySelector("h1");
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
}

window.addEventListener("hashchange", () => {
  render().then(() => {
    const heading = main.querySelector("h1");
    if (heading) heading.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  });
});

// --- shell ---------------------------------------------------------------------------------

function renderTop(active) {
  const w = ctx.words;
  const link = (hash, label, key) =>
    h("a", { href: hash, "aria-current": active === key ? "page" : null }, label);
  const signOut = h("button", { type: "button", class: "link", onclick: () => signOutNow() }, "Sign out");
  replace(
    top,
    h(
      "div",
      { class: "top-inner" },
      h("a", { class: "brand", href: "#/connections" }, h("img", { src: "entra.svg", alt: "", width: "20", height: "20" }), "entrasync"),
      h(
        "nav",
        { "aria-label": "Main" },
        link("#/connections", "Connections", "connections"),
        link("#/sites", w.Sites, "sites"),
        link("#/users", w.Users, "users"),
      ),
      h(
        "div",
        { class: "who" },
        h("span", { class: "account" }, ctx.viewer.account.name),
        h("span", { class: "muted" }, ` · ${w.mode} · ${ctx.viewer.role === "ADMIN" ? "Admin" : "Read only"}`),
        signOut,
      ),
    ),
    ctx.isAdmin
      ? null
      : h("p", { class: "readonly-note", id: "readonly-note" }, "This key may only read: connecting, importing and other changes need an ADMIN key."),
  );
}

function signOutNow(message) {
  session.key = null;
  ctx.viewer = null;
  subscriptions.close();
  for (const name of Object.keys(sessionStorage)) {
    if (name.startsWith("entrasync.")) sessionStorage.removeItem(name);
  }
  renderSignIn(message);
}

hooks.onAuthLost = (err) => {
  if (ctx.viewer) signOutNow(err.message);
};

async function loadViewer(key) {
  const data = await gql("{ viewer { role account { id name mode } } }", {}, key);
  ctx.viewer = data.viewer;
  ctx.words = WORDS[data.viewer.account.mode] || WORDS.IT_DEPARTMENT;
  document.body.dataset.mode = data.viewer.account.mode;
}

function renderSignIn(message) {
  for (const fn of leaveHandlers) fn();
  leaveHandlers = [];
  replace(top, h("div", { class: "top-inner" }, h("span", { class: "brand" }, h("img", { src: "entra.svg", alt: "", width: "20", height: "20" }), "entrasync")));
  const box = messageBox();
  if (message) box.error(message);
  const key = h("input", { type: "password", name: "apiKey", autocomplete: "off", spellcheck: "false", required: true });
  const keyField = field("API key", key, h("span", {}, "An ADMIN key can connect and import; a TECHNICIAN key may only read. ", h("code", {}, "entrasync api-keys create"), " makes one."));
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { class: "card narrow signin", novalidate: true },
    h("h1", { tabindex: "-1" }, "Sign in to the entrasync console"),
    h("p", { class: "lead" }, "Import the people of your Microsoft Entra ID tenants into your sites, and keep them current."),
    box.el,
    keyField.wrap,
    h("div", { class: "actions" }, submit),
    h("p", { class: "hint" }, "The key is kept in this browser tab only (session storage) and sent to the API in the Authorization header."),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = key.value.trim();
    if (!value) {
      box.error("Paste an API key first.");
      key.focus();
      return;
    }
    await busy(submit, box, async () => {
      await loadViewer(value);
      session.key = value;
      if (!location.hash || location.hash === "#/") history.replaceState(null, "", "#/connections");
      await render();
    });
    if (!ctx.viewer) key.focus();
  });
  replace(main, form);
  key.focus();
}

// --- connections ---------------------------------------------------------------------------

async function connectionsView(root) {
  const w = ctx.words;
  const list = h("div", { class: "connections" }, spinner("Loading connections…"));
  const connectArea = h("section", { class: "card", "aria-labelledby": "connect-title" });
  replace(
    root,
    h("h1", { tabindex: "-1" }, "Tenant connections"),
    h("p", { class: "lead" }, `Connect Microsoft Entra ID tenants, then choose which people are imported into which ${w.site}.`),
    list,
  );
  const [data, sites] = await Promise.all([
    gql(`{ tenantConnections(first: 100) { nodes { ${CONNECTION_FIELDS} } } }`),
    loadAllSites(),
  ]);
  const nodes = data.tenantConnections.nodes;
  renderConnectForm(connectArea, sites.list, nodes.length ? "Connect another tenant" : "Connect a tenant");
  if (!nodes.length) {
    replace(list, connectArea);
    return;
  }
  replace(list, h("ul", { class: "cards", "aria-label": "Connections" }, nodes.map((c) => h("li", {}, connectionCard(c)))), connectArea);
}

function scopeWords(c) {
  return c.scope === "ACCOUNT" ? "Whole account" : `${ctx.words.Site}: ${c.site ? c.site.name : "?"}`;
}

function connectionCard(c) {
  const needsSetup = c.status === "CONNECTED" && !c.configuration;
  return h(
    "article",
    { class: "card connection" },
    h(
      "div",
      { class: "row" },
      h("h3", {}, h("a", { href: `#/connections/${c.id}` }, c.tenantName || "Tenant not signed in yet")),
      statusBadge(c.status),
      h("span", { class: "badge plain" }, scopeWords(c)),
      c.reviewWaiting ? h("span", { class: "badge warn" }, `${c.reviewWaiting.toLocaleString("en")} waiting for review`) : null,
    ),
    c.statusMessage ? h("p", { class: "muted" }, sentence(c.statusMessage)) : null,
    h(
      "p",
      { class: "meta" },
      c.connectedBy ? `Signed in by ${c.connectedBy} · ` : "",
      c.connectedAt ? h("span", {}, "connected ", timeEl(c.connectedAt), " · ") : "",
      `Schedule: ${intervalWords(c.syncIntervalMinutes)}`,
    ),
    h(
      "div",
      { class: "actions" },
      needsSetup
        ? h("a", { class: "button primary", href: `#/connections/${c.id}/setup` }, "Set up the import")
        : null,
      h("a", { class: `button ${needsSetup ? "secondary" : "primary"}`, href: `#/connections/${c.id}` }, "Open"),
    ),
  );
}

function renderConnectForm(area, sites, title = "Connect a tenant") {
  const w = ctx.words;
  const box = messageBox();
  const name = "scope";
  const accountRadio = h("input", { type: "radio", name, value: "ACCOUNT", id: uid("sc"), checked: true });
  const siteRadio = h("input", { type: "radio", name, value: "SITE", id: uid("sc") });
  const siteSelect = h(
    "select",
    { id: uid("site"), disabled: true },
    h("option", { value: "" }, `Choose a ${w.site}…`),
    sites.map((s) => h("option", { value: s.id }, s.name)),
  );
  const toggleSite = () => {
    siteSelect.disabled = !siteRadio.checked;
  };
  accountRadio.addEventListener("change", toggleSite);
  siteRadio.addEventListener("change", toggleSite);
  const hint = h("input", { type: "text", autocomplete: "username", spellcheck: "false", placeholder: "admin@contoso.com" });
  const hintField = field("Microsoft admin username (optional)", hint, "Preselects the account on Microsoft's sign-in page.");
  const submit = adminOnly(h("button", { type: "submit", class: "primary" }, "Continue to Microsoft sign-in"));
  const form = h(
    "form",
    { class: "connect-form", novalidate: true },
    h("h2", { id: "connect-title" }, title),
    h(
      "fieldset",
      {},
      h("legend", {}, "What should this tenant feed?"),
      h(
        "div",
        { class: "choice" },
        accountRadio,
        h("label", { for: accountRadio.id }, h("strong", {}, "The whole account"),
          h("span", { class: "hint" }, `Each ${w.user} goes to a ${w.site} chosen by their office or department.`)),
      ),
      h(
        "div",
        { class: "choice" },
        siteRadio,
        h("label", { for: siteRadio.id }, h("strong", {}, `One ${w.site}`),
          h("span", { class: "hint" }, `Every imported ${w.user} goes into the ${w.site} you pick.`)),
      ),
      h("div", { class: "field indent" }, h("label", { for: siteSelect.id, class: "visually-hidden" }, w.Site), siteSelect),
    ),
    hintField.wrap,
    box.el,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const scope = siteRadio.checked ? "SITE" : "ACCOUNT";
    if (scope === "SITE" && !siteSelect.value) {
      box.error(`Choose the ${w.site} this tenant feeds.`);
      siteSelect.focus();
      return;
    }
    await busy(submit, box, async () => {
      const data = await gql(
        `mutation($input: StartConnectInput!) { startConnect(input: $input) {
          ${ERROR_FIELDS} ... on StartConnectPayload { signInUrl connection { id } } } }`,
        { input: { scope, siteId: scope === "SITE" ? siteSelect.value : null, loginHint: hint.value.trim() || null } },
      );
      const payload = expect(data.startConnect, "StartConnectPayload");
      renderSignInStep(area, payload.connection.id, payload.signInUrl, () => renderConnectForm(area, sites, title));
    });
  });
  replace(area, form);
}

/** After startConnect: send the admin to Microsoft, then wait for the callback to connect. */
function renderSignInStep(area, connectionId, signInUrl, back) {
  const status = h("p", { class: "waiting", role: "status" }, spinner("Waiting for the sign-in to finish…"));
  const box = messageBox();
  const check = h("button", { type: "button", class: "secondary" }, "I've signed in");
  const cancel = h("button", { type: "button", class: "link" }, "Start over");
  const open = h("a", { class: "button primary", href: signInUrl, target: "_blank", rel: "noopener noreferrer" }, "Open Microsoft sign-in");
  const next = h("div", { class: "actions" });
  const note = h("p", { class: "hint signin-note" }, "The sign-in opens in a new tab. Prefer this tab? ", h("a", { href: signInUrl }, "Sign in here"), " and come back to the console afterwards.");
  let timer = null;
  let done = false;
  const stop = () => {
    done = true;
    if (timer) clearTimeout(timer);
  };
  onLeave(stop);
  async function poll() {
    if (done) return;
    try {
      const data = await gql(
        `query($id: ID!) { node(id: $id) { ... on TenantConnection { id status statusMessage tenantName } } }`,
        { id: connectionId },
      );
      const c = data.node;
      if (c && c.status === "CONNECTED") {
        stop();
        box.clear();
        replace(status, h("strong", { class: "ok-text" }, `Connected to ${c.tenantName || "the tenant"}.`));
        const setup = h("a", { class: "button primary", href: `#/connections/${connectionId}/setup` }, "Set up the import");
        replace(next, setup);
        check.hidden = true;
        open.hidden = true;
        cancel.hidden = true;
        note.hidden = true;
        setup.focus();
        return;
      }
      if (c && (c.status === "NEEDS_CONSENT" || c.status === "NEEDS_REAUTH")) {
        box.error(sentence(c.statusMessage) || "Microsoft did not grant the permissions. Sign in again.");
      }
    } catch (err) {
      box.error(err.message);
    }
    if (!done) timer = setTimeout(poll, 2000);
  }
  check.addEventListener("click", () => {
    if (timer) clearTimeout(timer);
    poll();
  });
  cancel.addEventListener("click", () => {
    stop();
    back();
  });
  replace(
    area,
    h("h2", { id: "connect-title", tabindex: "-1" }, "Sign in with Microsoft"),
    h("p", {}, "An administrator of the tenant signs in at Microsoft and accepts what entrasync asks for: reading users and group memberships. entrasync never sees the password."),
    h("div", { class: "actions" }, open, check, cancel),
    note,
    status,
    box.el,
    next,
  );
  area.querySelector("h2").focus();
  timer = setTimeout(poll, 2000);
}

// --- one connection ------------------------------------------------------------------------

async function loadRuns(connectionId, keep = 15) {
  // The newest `keep` runs in one request (syncRuns pages backwards with last/before), newest first.
  const data = await gql(
    `query($c: ID!, $last: Int!) { syncRuns(connectionId: $c, last: $last) { nodes { ${RUN_FIELDS} } } }`,
    { c: connectionId, last: keep },
  );
  return data.syncRuns.nodes.reverse();
}

function configSummary(conf, scope) {
  const w = ctx.words;
  if (!conf) return h("p", { class: "empty" }, "Not set up yet.");
  const items = [];
  if (scope === "ACCOUNT") {
    items.push(["Sorted by", conf.classification === "DEPARTMENT" ? "Department" : "Office"]);
    items.push([
      `Values → ${w.sites}`,
      conf.mappings.length
        ? h("ul", { class: "plain" }, conf.mappings.map((m) => h("li", {}, `${m.value} → ${m.site ? m.site.name : "?"}`)))
        : "None mapped",
    ]);
  }
  const groups = {
    NONE: "All users (no group filter)",
    ALL_GROUPS: "Users in at least one group",
    SELECTED: `Members of ${plural(conf.selectedGroupIds.length, "selected group", "selected groups")}`,
  };
  items.push(["Groups", groups[conf.groupFilter]]);
  items.push(["User types", ["MEMBER", "GUEST"].filter((t) => conf.userTypes.includes(t)).map((t) => (t === "MEMBER" ? "Members" : "Guests")).join(" and ")]);
  items.push(["Matched by", conf.matchAttribute === "MAIL" ? "Mail attribute" : "User principal name"]);
  items.push(["Saved", timeEl(conf.configuredAt)]);
  return h("dl", { class: "summary" }, items.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
}

function runsTable(runs) {
  if (!runs.length) return h("p", { class: "empty" }, "No run yet.");
  return h(
    "table",
    { class: "list runs" },
    h("caption", { class: "visually-hidden" }, "Runs, latest first"),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ["Started", "Kind", "Status", "Created", "Updated", "Unchanged", "Skipped", "Bad data", ""].map((t) =>
          h("th", { scope: "col" }, t),
        ),
      ),
    ),
    h(
      "tbody",
      {},
      runs.map((r) =>
        h(
          "tr",
          {},
          h("td", {}, timeEl(r.startedAt || r.createdAt)),
          h("td", {}, r.dryRun ? "Preview" : r.trigger === "SCHEDULE" ? "Scheduled sync" : "Sync"),
          h("td", {}, statusBadge(r.status)),
          h("td", { class: "num" }, r.created),
          h("td", { class: "num" }, r.updated),
          h("td", { class: "num" }, r.unchanged),
          h("td", { class: "num" }, r.skippedByFilter + r.skippedUnmapped),
          h("td", { class: "num" }, r.errors),
          h("td", {}, h("a", { href: `#/runs/${r.id}` }, "Change log")),
        ),
      ),
    ),
  );
}

async function connectionView(root, id) {
  const data = await gql(`query($id: ID!) { node(id: $id) { __typename ... on TenantConnection { ${CONNECTION_FIELDS} ${POLICY_FIELDS} } } }`, { id });
  const c = data.node;
  if (!c || c.__typename !== "TenantConnection") {
    replace(root, h("h1", { tabindex: "-1" }, "Connection not found"), h("p", {}, h("a", { href: "#/connections" }, "Back to the connections")));
    return;
  }
  const box = messageBox();
  const live = h("section", { class: "card live", hidden: true, "aria-label": "Current run" });
  const runsArea = h("div", {}, spinner("Loading runs…"));
  const connected = c.status === "CONNECTED";

  const syncBtn = adminOnly(h("button", { type: "button", class: "primary", disabled: !connected || !c.configuration }, "Sync now"));
  const previewBtn = adminOnly(h("button", { type: "button", class: "secondary", disabled: !connected || !c.configuration }, "Preview changes"));
  const setupLink = h("a", { class: `button ${c.configuration ? "secondary" : "primary"}`, href: `#/connections/${id}/setup` },
    c.configuration ? "Edit import settings" : "Set up the import");
  const checkBtn = h("button", { type: "button", class: "secondary" }, "Check connection");
  const reauthBtn = adminOnly(h("button", { type: "button", class: "secondary", hidden: connected }, "Sign in again"));
  const disconnectBtn = adminOnly(h("button", { type: "button", class: "danger", hidden: c.status === "DISCONNECTED" }, "Disconnect"));
  if (!connected) setupLink.hidden = true;

  let following = null;
  onLeave(() => following && following.stop());
  const review = reviewCard(c);
  const policies = policiesCard(c, { onLeave, onSaved: () => review.load(), onPreview: () => refreshRuns() });

  async function refreshRuns() {
    try {
      const runs = await loadRuns(id);
      replace(runsArea, runsTable(runs));
      return runs;
    } catch (err) {
      replace(runsArea, h("p", { class: "message error", role: "alert" }, err.message));
      return [];
    }
  }

  function follow(runId, dry) {
    live.hidden = false;
    const panel = progressPanel(dry ? "Previewing (dry run: nothing is written)" : "Syncing");
    const result = h("div", {});
    replace(live, panel.el, result);
    const cancelBtn = adminOnly(h("button", { type: "button", class: "secondary" }, "Cancel the run"));
    cancelBtn.addEventListener("click", () =>
      busy(cancelBtn, box, async () => {
        const res = await gql(`mutation($id: ID!) { cancelSync(input: {runId: $id}) { ${ERROR_FIELDS} ... on SyncRunPayload { run { id status } } } }`, { id: runId });
        expect(res.cancelSync, "SyncRunPayload");
      }),
    );
    result.append(h("div", { class: "actions" }, cancelBtn));
    following = followRun(runId, (p) => panel.update(p));
    following.done
      .then(async () => {
        const runData = await gql(`query($id: ID!) { node(id: $id) { ... on SyncRun { ${RUN_FIELDS} ${MASS_CHANGE_FIELDS} } } }`, { id: runId });
        const run = runData.node;
        if (run.status === PAUSED) {
          panel.retitle("Sync waiting for approval");
          replace(result, pausedRun(run));
          refreshRuns();
          return;
        }
        panel.retitle(dry ? "Last preview" : "Last sync");
        replace(
          result,
          run.status === "SUCCEEDED" ? h("p", { class: "ok-text" }, dry ? "Preview finished: nothing was written." : "Sync finished.") : null,
          runSummary(run),
          h("div", { class: "actions" }, h("a", { class: "button secondary", href: `#/runs/${runId}` }, "Open the change log")),
        );
        refreshRuns();
        review.load();
      })
      .catch((err) => box.error(err.message));
  }

  /**
   * What the mass-change guard found in a paused run, a link to what it would change, and for
   * ADMIN keys the two ways out: apply the changes (the run goes on) or discard the run.
   */
  function pausedRun(run) {
    const w = ctx.words;
    const m = run.massChange;
    const found = m
      ? `It would change ${m.affectedUsers.toLocaleString("en")} of ${plural(m.importedUsers, `imported ${w.user}`, `imported ${w.users}`)} ` +
        `(${percentWords(m.share)}), more than this connection's threshold of ${percentWords(m.threshold)}.`
      : sentence(run.errorMessage);
    const titleId = uid("paused");
    const actions = h(
      "div",
      { class: "actions" },
      h("a", { class: "button secondary", href: `#/runs/${run.id}` }, "See what it would change"),
    );
    const el = h(
      "div",
      { class: "paused-run", role: "group", "aria-labelledby": titleId },
      h("p", { id: titleId }, h("strong", {}, "The mass-change guard stopped this sync before it wrote anything.")),
      h("p", {}, found, ` It counts the imported ${w.users} a sync would update, skip or no longer find in Entra ID.`),
      runSummary(run, { would: true }),
      h("p", { class: "muted" }, "Until it is applied or discarded, no other sync of this connection starts."),
      actions,
    );
    if (!ctx.isAdmin) {
      el.append(h("p", { class: "hint" }, "An ADMIN key can apply the changes or discard the run."));
      return el;
    }
    const applyBtn = h("button", { type: "button", class: "primary" }, "Apply the changes");
    const discardBtn = h("button", { type: "button", class: "danger" }, "Discard the run");
    actions.prepend(applyBtn);
    actions.append(discardBtn);
    // A typed error (the run was applied or discarded elsewhere meanwhile) stays in the message
    // box; the panel then shows the run as it is now.
    async function decide(button, mutation, then) {
      let stale = false;
      await busy(button, box, async () => {
        const res = await gql(
          `mutation($id: ID!) { ${mutation}(input: {runId: $id}) { ${ERROR_FIELDS} ... on SyncRunPayload { run { id status } } } }`,
          { id: run.id },
        );
        try {
          expect(res[mutation], "SyncRunPayload");
        } catch (err) {
          stale = err.type === "RunNotAwaitingApprovalError";
          throw err;
        }
        then();
      });
      if (stale) follow(run.id, run.dryRun);
    }
    applyBtn.addEventListener("click", () =>
      decide(applyBtn, "approveSyncRun", () => {
        box.info("Approved: the sync applies its changes now.");
        follow(run.id, false);
        const heading = live.querySelector("h3");
        heading.setAttribute("tabindex", "-1");
        heading.focus();
      }),
    );
    discardBtn.addEventListener("click", () =>
      decide(discardBtn, "rejectSyncRun", () => {
        box.info("Run discarded: it was cancelled and nothing was written.");
        live.hidden = true;
        replace(live);
        refreshRuns();
        syncBtn.focus();
      }),
    );
    return el;
  }

  async function start(dry, button) {
    await busy(button, box, async () => {
      const res = await gql(
        `mutation($c: ID!, $dry: Boolean!) { startSync(input: {connectionId: $c, dryRun: $dry}) {
          ${ERROR_FIELDS} ... on SyncRunPayload { alreadyRunning run { id dryRun status } } } }`,
        { c: id, dry },
      );
      const payload = expect(res.startSync, "SyncRunPayload");
      if (payload.alreadyRunning && payload.run.status === PAUSED) {
        box.info("A sync of this connection is waiting for approval: apply or discard it first.");
      } else if (payload.alreadyRunning) box.info("A run of this connection is already going: showing it.");
      if (following) following.stop();
      follow(payload.run.id, payload.run.dryRun);
    });
  }
  syncBtn.addEventListener("click", () => start(false, syncBtn));
  previewBtn.addEventListener("click", () => start(true, previewBtn));

  checkBtn.addEventListener("click", () =>
    busy(checkBtn, box, async () => {
      const res = await gql(`mutation($id: ID!) { checkConnection(input: {id: $id}) { ${ERROR_FIELDS} ... on ConnectionPayload { connection { status statusMessage } } } }`, { id });
      const payload = expect(res.checkConnection, "ConnectionPayload");
      box.info(`Microsoft answered: ${sentence(payload.connection.statusMessage) || "the connection works."}`);
    }),
  );

  reauthBtn.addEventListener("click", () =>
    busy(reauthBtn, box, async () => {
      const res = await gql(
        `mutation($id: ID!) { startConnect(input: {connectionId: $id}) { ${ERROR_FIELDS} ... on StartConnectPayload { signInUrl connection { id } } } }`,
        { id },
      );
      const payload = expect(res.startConnect, "StartConnectPayload");
      const area = h("section", { class: "card" });
      root.insertBefore(area, root.querySelector(".conn-body"));
      renderSignInStep(area, payload.connection.id, payload.signInUrl, () => area.remove());
    }),
  );

  disconnectBtn.addEventListener("click", async () => {
    const ok = await confirmDialog({
      title: `Disconnect ${c.tenantName || "this tenant"}?`,
      body: [
        "entrasync deletes the stored Microsoft sign-in, stops the schedule and any running sync.",
        `Every imported ${ctx.words.user} stays as it is. You can connect again later.`,
      ],
      confirm: "Disconnect",
    });
    if (!ok) {
      disconnectBtn.focus();
      return;
    }
    await busy(disconnectBtn, box, async () => {
      const res = await gql(`mutation($id: ID!) { disconnect(input: {id: $id}) { ${ERROR_FIELDS} ... on ConnectionPayload { connection { status } } } }`, { id });
      expect(res.disconnect, "ConnectionPayload");
      await render();
      const msg = main.querySelector(".conn-message");
      if (msg) {
        msg.hidden = false;
        msg.setAttribute("role", "status");
        replace(msg, `Disconnected. The stored sign-in is deleted; imported ${ctx.words.users} are unchanged.`);
      }
    });
  });

  replace(
    root,
    h("p", { class: "crumbs" }, h("a", { href: "#/connections" }, "Connections"), " / ", c.tenantName || "Pending connection"),
    h("div", { class: "row title-row" }, h("h1", { tabindex: "-1" }, c.tenantName || "Pending connection"), statusBadge(c.status), h("span", { class: "badge plain" }, scopeWords(c))),
    c.statusMessage ? h("p", { class: "muted" }, sentence(c.statusMessage)) : null,
    h("p", { class: "message info conn-message", hidden: true }),
    box.el,
    h("div", { class: "actions toolbar" }, syncBtn, previewBtn, setupLink, checkBtn, reauthBtn, disconnectBtn),
    live,
    h(
      "div",
      { class: "conn-body columns" },
      h("section", { class: "card" }, h("h2", {}, "Import settings"), configSummary(c.configuration, c.scope)),
      h("section", { class: "card" }, h("h2", {}, "Schedule"), scheduleForm(c)),
    ),
    review.el,
    h("section", {}, h("h2", {}, "Runs"), runsArea),
    policies.el,
    explainCard(c),
  );
  await review.load();
  const runs = await refreshRuns();
  const active = runs.find((r) => !TERMINAL.has(r.status));
  if (active) follow(active.id, active.dryRun);
}

const PRESETS = [
  ["", "Off"],
  ["15", "Every 15 minutes"],
  ["60", "Every hour"],
  ["360", "Every 6 hours"],
  ["1440", "Every day"],
  ["10080", "Every week"],
  ["custom", "Custom…"],
];

function scheduleForm(c) {
  const box = messageBox();
  const current = c.syncIntervalMinutes ? String(c.syncIntervalMinutes) : "";
  const known = PRESETS.some(([v]) => v === current);
  const select = h("select", {}, PRESETS.map(([v, label]) => h("option", { value: v, selected: known ? v === current : v === "custom" }, label)));
  const minutes = h("input", { type: "number", min: "5", max: "10080", step: "1", value: known ? "" : current, inputmode: "numeric" });
  const minutesField = field("Minutes between syncs", minutes, "From 5 minutes to 7 days (10080).");
  minutesField.wrap.hidden = select.value !== "custom";
  select.addEventListener("change", () => {
    minutesField.wrap.hidden = select.value !== "custom";
  });
  const selectField = field("Sync automatically", select);
  const save = adminOnly(h("button", { type: "submit", class: "secondary", disabled: c.status !== "CONNECTED" || !c.configuration }, "Save schedule"));
  const next = h("p", { class: "muted" }, c.nextSyncAt ? h("span", {}, "Next sync ", timeEl(c.nextSyncAt), ".") : "No sync is scheduled.");
  const form = h("form", { class: "schedule-form", novalidate: true }, selectField.wrap, minutesField.wrap, box.el, h("div", { class: "actions" }, save), next);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    let value = select.value === "custom" ? minutes.value.trim() : select.value;
    if (select.value === "custom" && !/^\d+$/.test(value)) {
      box.error("Enter a whole number of minutes, from 5 to 10080.");
      minutes.focus();
      return;
    }
    value = value ? Number(value) : null;
    await busy(save, box, async () => {
      const res = await gql(
        `mutation($c: ID!, $m: Int) { setSyncSchedule(input: {connectionId: $c, intervalMinutes: $m}) {
          ${ERROR_FIELDS} ... on ConnectionPayload { connection { syncIntervalMinutes nextSyncAt } } } }`,
        { c: c.id, m: value },
      );
      const conn = expect(res.setSyncSchedule, "ConnectionPayload").connection;
      box.info(conn.syncIntervalMinutes ? `Saved: ${intervalWords(conn.syncIntervalMinutes).toLowerCase()}.` : "Saved: scheduled syncs are off.");
      replace(next, conn.nextSyncAt ? h("span", {}, "Next sync ", timeEl(conn.nextSyncAt), ".") : "No sync is scheduled.");
    });
  });
  return form;
}

// --- one run: its change log ---------------------------------------------------------------

const REASON_NAMES = {
  FILTERED_USER_TYPE: "User type filtered out",
  FILTERED_GROUP: "Not in the chosen groups",
  UNMAPPED: "Value not mapped",
  NO_EMAIL: "No email",
  INVALID_EMAIL: "Invalid email",
  DUPLICATE_EMAIL: "Duplicate email",
  AMBIGUOUS_MATCH: "Ambiguous match",
  EMAIL_CONFLICT: "Email conflict",
  LINKED_TO_OTHER_TENANT: "Linked to another tenant",
  INVALID_ID: "Invalid object id",
};

async function runView(root, id) {
  const data = await gql(`query($id: ID!) { node(id: $id) { __typename ... on SyncRun { ${RUN_FIELDS} } } }`, { id });
  const run = data.node;
  if (!run || run.__typename !== "SyncRun") {
    replace(root, h("h1", { tabindex: "-1" }, "Run not found"), h("p", {}, h("a", { href: "#/connections" }, "Back to the connections")));
    return;
  }
  const [connData, sites] = await Promise.all([
    gql(`query($id: ID!) { node(id: $id) { ... on TenantConnection { id tenantName } } }`, { id: run.connectionId }),
    loadAllSites(),
  ]);
  const conn = connData.node || { id: run.connectionId, tenantName: "Connection" };
  const kind = run.dryRun ? "Preview" : run.trigger === "SCHEDULE" ? "Scheduled sync" : "Sync";
  // The mass-change guard paused it: its counters (and any log) are what it would do.
  const paused = run.status === PAUSED;
  const would = run.dryRun || paused;

  const box = messageBox();
  const action = h("select", {}, h("option", { value: "" }, "All"), Object.entries(ACTION_WORDS).map(([v, [, label]]) => h("option", { value: v }, label)));
  const reason = h(
    "select",
    {},
    h("option", { value: "" }, "Any reason"),
    h("optgroup", { label: "Skipped because" }, Object.keys(REASONS).map((code) => h("option", { value: code }, REASON_NAMES[code] || code))),
    h("optgroup", { label: "Imported, with a value trimmed" }, h("option", { value: "TRUNCATED" }, "Too long, cut"), h("option", { value: "CONTROL_CHARACTERS" }, "Control characters removed")),
  );
  const apply = h("button", { type: "submit", class: "secondary" }, "Show");
  const filters = h(
    "form",
    { class: "filters compact", role: "search", "aria-label": "Filter the change log" },
    field("What happened", action).wrap,
    field("Reason", reason).wrap,
    h("div", { class: "actions" }, apply),
  );
  const tableArea = h("div", {}, spinner("Loading the change log…"));
  const pages = pager(() => load());

  async function load() {
    box.clear();
    try {
      const page = await changeLogPage(id, { action: action.value || null, reason: reason.value || null, first: 25, after: pages.after });
      replace(
        tableArea,
        paused && !page.nodes.length && !pages.after
          ? h("p", { class: "empty" }, "No entries: the counts above are what it would do.")
          : changeLogTable(page.nodes, sites.names, "Change log", { dry: would }),
      );
      pages.show(page.pageInfo, page.nodes.length);
    } catch (err) {
      replace(tableArea);
      box.error(err.message);
    }
  }
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    pages.reset();
    load();
  });

  replace(
    root,
    h("p", { class: "crumbs" }, h("a", { href: "#/connections" }, "Connections"), " / ", h("a", { href: `#/connections/${conn.id}` }, conn.tenantName || "Connection"), " / ", `${kind} run`),
    h("div", { class: "row title-row" }, h("h1", { tabindex: "-1" }, `${kind} run`), statusBadge(run.status)),
    h("p", { class: "muted" }, "Started ", timeEl(run.startedAt || run.createdAt), run.finishedAt ? h("span", {}, " · finished ", timeEl(run.finishedAt)) : "",
      ` · ${run.fetched.toLocaleString("en")} users read`, would ? " · nothing was written" : ""),
    paused
      ? h("p", { class: "message info" }, sentence(run.errorMessage), " ",
          h("a", { href: `#/connections/${conn.id}` }, ctx.isAdmin ? "Apply or discard it on the connection page" : "See it on the connection page"), ".")
      : run.errorMessage ? h("p", { class: "message error", role: "alert" }, sentence(run.errorMessage)) : null,
    runSummary(run, { would }),
    h("h2", {}, "Change log"),
    filters,
    box.el,
    tableArea,
    pages.el,
  );
  await load();
}

// --- sites ---------------------------------------------------------------------------------

async function sitesView(root, params) {
  const w = ctx.words;
  const box = messageBox();
  const search = h("input", { type: "search", value: params.get("q") || "", spellcheck: "false" });
  const searchForm = h("form", { class: "filters", role: "search", "aria-label": `Search ${w.sites}` },
    field(`Search ${w.sites}`, search).wrap, h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Search")));
  const tableArea = h("div", {}, spinner(`Loading ${w.sites}…`));
  const pages = pager(() => load());

  const createBox = messageBox();
  const newName = h("input", { type: "text", maxlength: "200", autocomplete: "off" });
  const createBtn = adminOnly(h("button", { type: "submit", class: "secondary" }, `Add ${w.site}`));
  const createForm = h("form", { class: "filters", novalidate: true, "aria-label": `Add a ${w.site}` },
    field(`New ${w.site} name`, newName).wrap, h("div", { class: "actions" }, createBtn));
  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!newName.value.trim()) {
      createBox.error(`Type a name for the new ${w.site}.`);
      newName.focus();
      return;
    }
    await busy(createBtn, createBox, async () => {
      const res = await gql(`mutation($n: String!) { createSite(input: {name: $n}) { ${ERROR_FIELDS} ... on SitePayload { site { id name } } } }`, { n: newName.value.trim() });
      const site = expect(res.createSite, "SitePayload").site;
      createBox.info(`${w.Site} “${site.name}” added.`);
      newName.value = "";
      load();
    });
  });

  async function load() {
    box.clear();
    try {
      const data = await gql(
        `query($after: String, $q: String) { sites(first: 25, after: $after, search: $q) { nodes { id name createdAt } pageInfo { hasNextPage endCursor } } }`,
        { after: pages.after, q: search.value.trim() || null },
      );
      const nodes = data.sites.nodes;
      replace(
        tableArea,
        nodes.length
          ? h("table", { class: "list" }, h("caption", { class: "visually-hidden" }, w.Sites),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Added"), h("th", { scope: "col" }, w.Users))),
              h("tbody", {}, nodes.map((s) => h("tr", {}, h("td", {}, s.name), h("td", {}, timeEl(s.createdAt)),
                h("td", {}, h("a", { href: `#/users?site=${encodeURIComponent(s.id)}` }, `See ${w.users}`, h("span", { class: "visually-hidden" }, ` of ${s.name}`)))))))
          : h("p", { class: "empty" }, search.value ? `No ${w.site} matches “${search.value}”.` : `No ${w.site} yet.`),
      );
      pages.show(data.sites.pageInfo, nodes.length);
    } catch (err) {
      replace(tableArea);
      box.error(err.message);
    }
  }
  searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    pages.reset();
    load();
  });
  replace(root, h("h1", { tabindex: "-1" }, w.Sites), h("div", { class: "toolbar-forms" }, searchForm, createForm), createBox.el, box.el, tableArea, pages.el);
  await load();
}

// --- end users -----------------------------------------------------------------------------

const END_USER_FIELDS = "id email firstName lastName jobTitle source userType lastSyncedAt active inactiveReason inactiveSince pin site { id name }";

const PIN_WORDS = { "": "No pin", KEEP_ACTIVE: "Keep active", EXCLUDE: "Exclude from sync" };
const PIN_BADGES = { KEEP_ACTIVE: "Pinned: keep active", EXCLUDE: "Pinned: excluded from sync" };
const PIN_DONE = {
  KEEP_ACTIVE: "pinned to stay active; no lifecycle policy marks it inactive.",
  EXCLUDE: "excluded from sync; no sync changes it.",
};

/** Active, or Inactive with the reason (in words, and the date it became inactive). */
function activeBadge(u) {
  if (u.active) return h("span", { class: "badge ok small" }, "Active");
  const why = INACTIVE_REASONS[u.inactiveReason] || "";
  return h(
    "span",
    { class: "inactive" },
    h("span", { class: "badge off small" }, "Inactive"),
    why ? h("span", { class: "muted small inactive-reason" }, ` ${why}`) : null,
    u.inactiveSince ? h("span", { class: "muted small" }, " Since ", timeEl(u.inactiveSince), ".") : null,
  );
}

async function usersView(root, params) {
  const w = ctx.words;
  const sites = await loadAllSites();
  const box = messageBox();
  const search = h("input", { type: "search", value: params.get("q") || "", spellcheck: "false", maxlength: "100" });
  const site = h("select", {}, h("option", { value: "" }, `All ${w.sites}`), sites.list.map((s) => h("option", { value: s.id, selected: s.id === params.get("site") }, s.name)));
  const source = h(
    "select",
    {},
    h("option", { value: "" }, "Any source"),
    h("option", { value: "ENTRA", selected: params.get("source") === "ENTRA" }, "Imported from Entra ID"),
    h("option", { value: "MANUAL", selected: params.get("source") === "MANUAL" }, "Added by hand"),
  );
  const state = h(
    "select",
    {},
    h("option", { value: "" }, "Active and inactive"),
    h("option", { value: "active", selected: params.get("state") === "active" }, "Active only"),
    h("option", { value: "inactive", selected: params.get("state") === "inactive" }, "Inactive only"),
  );
  const filters = h(
    "form",
    { class: "filters", role: "search", "aria-label": `Filter ${w.users}` },
    field("Name or email", search).wrap,
    field(w.Site, site).wrap,
    field("Source", source).wrap,
    field("Status", state).wrap,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "secondary" }, "Show")),
  );
  const tableArea = h("div", {}, spinner(`Loading ${w.users}…`));
  const pages = pager(() => load());

  /** One row; its pin and active controls (ADMIN) change it in place. */
  function userRow(u) {
    const tr = h("tr", {});
    const name = `${u.firstName} ${u.lastName}`.trim() || "(no name)";
    const pin = adminOnly(
      h(
        "select",
        { "aria-label": `Pin for ${name}` },
        Object.entries(PIN_WORDS).map(([v, label]) => h("option", { value: v, selected: (u.pin || "") === v }, label)),
      ),
    );
    const toggle = adminOnly(
      h("button", { type: "button", class: "secondary small-button", "aria-label": `${u.active ? "Mark inactive" : "Mark active"}: ${name}` },
        u.active ? "Mark inactive" : "Mark active"),
    );
    pin.addEventListener("change", () =>
      busy(pin, box, async () => {
        const res = await gql(
          `mutation($input: SetEndUserPinInput!) { setEndUserPin(input: $input) { ${ERROR_FIELDS} ... on SetEndUserPinPayload { endUser { ${END_USER_FIELDS} } } } }`,
          { input: { endUserId: u.id, pin: pin.value || null } },
        );
        const changed = expect(res.setEndUserPin, "SetEndUserPinPayload").endUser;
        const row = userRow(changed);
        tr.replaceWith(row);
        row.querySelector("select").focus();
        box.info(changed.pin ? `${name}: ${PIN_DONE[changed.pin]}` : `${name}: pin removed; the connection's policies apply again.`);
      }).then(() => {
        if (!pin.isConnected) return;
        pin.value = u.pin || "";
      }),
    );
    toggle.addEventListener("click", () =>
      busy(toggle, box, async () => {
        const res = await gql(
          `mutation($input: SetEndUserActiveInput!) { setEndUserActive(input: $input) { ${ERROR_FIELDS} ... on SetEndUserActivePayload { endUser { ${END_USER_FIELDS} } } } }`,
          { input: { endUserId: u.id, active: !u.active } },
        );
        const changed = expect(res.setEndUserActive, "SetEndUserActivePayload").endUser;
        const row = userRow(changed);
        tr.replaceWith(row);
        row.querySelector("button").focus();
        box.info(changed.active ? `${name} is active again.` : `${name} is marked inactive; no sync makes it active again.`);
      }),
    );
    replace(
      tr,
      h("td", {}, h("span", { class: "name" }, name), u.userType === "Guest" ? h("span", { class: "badge plain small" }, "Guest") : null),
      h("td", {}, u.email),
      h("td", {}, u.site.name),
      h("td", {}, u.jobTitle || h("span", { class: "muted" }, "—")),
      h("td", {}, u.source === "ENTRA" ? entraMark() : h("span", { class: "muted" }, "Manual")),
      h("td", {}, activeBadge(u), u.pin ? h("span", { class: "badge plain small" }, PIN_BADGES[u.pin]) : null),
      h("td", {}, timeEl(u.lastSyncedAt)),
      h("td", { class: "row-actions" }, pin, toggle),
    );
    return tr;
  }

  async function load() {
    box.clear();
    const filter = {
      siteId: site.value || null,
      source: source.value || null,
      search: search.value.trim() || null,
      active: state.value ? state.value === "active" : null,
    };
    try {
      const data = await gql(
        `query($f: EndUserFilterInput, $after: String) { endUsers(filter: $f, first: 25, after: $after) {
          nodes { ${END_USER_FIELDS} }
          pageInfo { hasNextPage endCursor } } }`,
        { f: filter, after: pages.after },
      );
      const nodes = data.endUsers.nodes;
      replace(
        tableArea,
        nodes.length
          ? h(
              "table",
              { class: "list users" },
              h("caption", { class: "visually-hidden" }, w.Users),
              h("thead", {}, h("tr", {}, ["Name", "Email", w.Site, "Job title", "Source", "Status", "Last synced", "Actions"].map((t) => h("th", { scope: "col" }, t)))),
              h("tbody", {}, nodes.map((u) => userRow(u))),
            )
          : h("p", { class: "empty" }, `No ${w.user} matches these filters.`),
      );
      pages.show(data.endUsers.pageInfo, nodes.length);
    } catch (err) {
      replace(tableArea);
      box.error(err.message);
    }
  }
  filters.addEventListener("submit", (event) => {
    event.preventDefault();
    pages.reset();
    load();
  });
  replace(
    root,
    h("h1", { tabindex: "-1" }, w.Users),
    h("p", { class: "lead" }, `${w.Users} imported from Microsoft Entra ID carry the `, entraMark(), " mark; a sync keeps their names, job title and phones current."),
    filters,
    box.el,
    tableArea,
    pages.el,
  );
  await load();
}

// --- start ---------------------------------------------------------------------------------

document.getElementById("skip").addEventListener("click", (event) => {
  event.preventDefault();
  const heading = main.querySelector("h1") || main;
  heading.focus();
});

async function start() {
  const key = session.key;
  if (!key) {
    renderSignIn();
    return;
  }
  replace(main, spinner("Signing in…"));
  try {
    await loadViewer(key);
  } catch (err) {
    if (err instanceof ApiError && err.kind === "auth") {
      session.key = null;
      renderSignIn(err.message);
    } else {
      renderSignIn(err.message);
    }
    return;
  }
  await render();
}

start();
