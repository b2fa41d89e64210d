// The connection page's issue 6 cards: the review queue, the sync policies (shown, previewed,
// saved) and "Explain a user". Talks only to the public GraphQL API, like the rest.

import { ERROR_FIELDS, expect, followRun, gql, PAUSED } from "./api.js";
import { busy, field, h, messageBox, plural, replace, sentence, uid } from "./dom.js";
import { adminOnly, ctx, INACTIVE_REASONS, MASS_CHANGE_FIELDS, percentWords, progressPanel, RUN_FIELDS, runSummary, spinner } from "./ui.js";

// --- the review queue ----------------------------------------------------------------------

const REVIEW_KIND_TITLES = {
  SEVERAL_PRODUCT_MATCHES: "Several matching users",
  SAME_EMAIL_IN_ENTRA: "Same email twice in Entra ID",
  SITE_DISAGREES: "In another site than routing picks",
};

const REVIEW_ITEMS = `query($c: ID!, $after: String) {
  reviewItems(connectionId: $c, status: OPEN, first: 50, after: $after) {
    nodes { id kind kindMessage email displayName entraObjectId createdAt
      candidates { id email firstName lastName site { id name } }
      routedSite { id name } }
    pageInfo { hasNextPage endCursor } } }`;

function personName(u) {
  return `${u.firstName || ""} ${u.lastName || ""}`.trim() || "(no name)";
}

/**
 * "Needs review": the connection's open review items in plain words, and for ADMIN keys the
 * three ways to resolve one (resolveReviewItem). `onCount(n)` hears the waiting count.
 */
export function reviewCard(conn, { onCount = () => {} } = {}) {
  const w = ctx.words;
  const titleId = uid("review");
  const box = messageBox();
  const body = h("div", {}, spinner("Loading the review queue…"));
  const count = h("span", { class: "badge plain", hidden: true });
  const intro = h("p", { class: "muted" });
  const introWords = () =>
    conn.syncPolicies && conn.syncPolicies.reviewConflicts
      ? `Cases the sync did not decide on its own: it writes nothing to these ${w.users} until someone chooses. The next sync follows the choice.`
      : `Review is off for this connection: the sync decides ambiguous cases as the rules say. Turn on "Send ambiguous matches to review" in the sync policies to decide them here.`;
  const el = h(
    "section",
    { class: "card review", "aria-labelledby": titleId },
    h("div", { class: "row" }, h("h2", { id: titleId }, "Needs review"), count),
    intro,
    box.el,
    body,
  );
  let items = [];

  function showCount() {
    count.hidden = !items.length;
    replace(count, `${items.length} waiting`);
    onCount(items.length);
  }

  function itemEl(item) {
    const headId = uid("item");
    const actions = h("div", { class: "actions" });
    const li = h(
      "li",
      { class: "review-item", "aria-labelledby": headId },
      h("h3", { id: headId }, `${item.displayName || item.email} · ${REVIEW_KIND_TITLES[item.kind] || item.kind}`),
      h("p", {}, sentence(item.kindMessage)),
      h(
        "dl",
        { class: "summary" },
        h("div", {}, h("dt", {}, "Entra user"), h("dd", {}, item.displayName || "(no name)", h("span", { class: "muted" }, ` · ${item.email}`))),
        h("div", {}, h("dt", {}, `Routed to ${w.site}`), h("dd", {}, item.routedSite ? item.routedSite.name : h("span", { class: "muted" }, `No ${w.site} (not mapped)`))),
        h(
          "div",
          {},
          h("dt", {}, `Matching ${w.users}`),
          h(
            "dd",
            {},
            item.candidates.length
              ? h("ul", { class: "plain" }, item.candidates.map((u) => h("li", {}, `${personName(u)} · ${u.email} · ${u.site.name}`)))
              : h("span", { class: "muted" }, "None left"),
          ),
        ),
      ),
      actions,
    );
    for (const u of item.candidates) {
      const label = `Link to ${u.email} in ${u.site.name}`;
      actions.append(adminOnly(h("button", { type: "button", class: "primary", onclick: (e) => resolve(e.currentTarget, item, "LINK", u) }, label)));
    }
    const createLabel = item.routedSite ? `Create new in ${item.routedSite.name}` : "Create new";
    actions.append(
      adminOnly(h("button", { type: "button", class: "secondary", onclick: (e) => resolve(e.currentTarget, item, "CREATE") }, createLabel)),
      adminOnly(h("button", { type: "button", class: "secondary", onclick: (e) => resolve(e.currentTarget, item, "IGNORE") }, "Ignore")),
    );
    if (!ctx.isAdmin) actions.append(h("p", { class: "hint" }, "An ADMIN key can link, create or ignore."));
    return li;
  }

  const DONE_WORDS = {
    LINK: (item, u) => `Linked ${item.email} to the ${w.user} in ${u.site.name}. The next sync updates it.`,
    CREATE: (item) => `The next sync creates a new ${w.user} for ${item.email}${item.routedSite ? ` in ${item.routedSite.name}` : ""}.`,
    IGNORE: (item) => `Ignored: the syncs of this connection leave ${item.email} out.`,
  };

  async function resolve(button, item, resolution, candidate = null) {
    await busy(button, box, async () => {
      const res = await gql(
        `mutation($input: ResolveReviewItemInput!) { resolveReviewItem(input: $input) {
          ${ERROR_FIELDS} ... on ReviewItemPayload { reviewItem { id status resolution } } } }`,
        { input: { id: item.id, resolution, endUserId: candidate ? candidate.id : null } },
      );
      expect(res.resolveReviewItem, "ReviewItemPayload");
      items = items.filter((i) => i.id !== item.id);
      draw();
      box.info(DONE_WORDS[resolution](item, candidate));
      // The item (and the button pressed) is gone: keep the focus in the card.
      const next = body.querySelector("li h3");
      const target = next || el.querySelector("h2");
      target.setAttribute("tabindex", "-1");
      target.focus();
    });
  }

  function draw() {
    showCount();
    replace(
      body,
      items.length
        ? h("ul", { class: "review-list", "aria-label": "Review items" }, items.map(itemEl))
        : h("p", { class: "empty" }, "Nothing waits for review."),
    );
  }

  async function load() {
    replace(intro, introWords());
    try {
      items = [];
      let after = null;
      for (let i = 0; i < 20; i += 1) {
        const data = await gql(REVIEW_ITEMS, { c: conn.id, after });
        items.push(...data.reviewItems.nodes);
        if (!data.reviewItems.pageInfo.hasNextPage) break;
        after = data.reviewItems.pageInfo.endCursor;
      }
      draw();
    } catch (err) {
      replace(body);
      box.error(err.message);
    }
  }
  return { el, load };
}

// --- sync policies -------------------------------------------------------------------------

export const POLICY_FIELDS = `syncPolicies { lifecycle exemptSharedMailboxes reviewConflicts enabledOnly licensedOnly
  includeDomains excludeDomains exclusionPatterns fieldRules { field rule } }`;

const FIELD_NAMES = {
  firstName: "First name",
  lastName: "Last name",
  jobTitle: "Job title",
  phone: "Phone",
  mobile: "Mobile",
  department: "Department",
  office: "Office",
  displayName: "Display name",
  managerEmail: "Manager's email",
};

const RULE_WORDS = {
  OVERWRITE: "Always take Entra's value",
  KEEP_WHEN_BLANK: "Take Entra's value, but a blank never erases",
  CREATE_ONLY: "Set on creation only",
  NOT_SYNCED: "Not synced",
};

const LIFECYCLE_POLICY_WORDS = {
  KEEP: "Leave them as they are (default)",
  MARK_INACTIVE: "Mark them inactive (never deleted; active again when they return)",
};

function lowerFirst(text) {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function listWords(list, none) {
  return list.length ? list.join(", ") : h("span", { class: "muted" }, none);
}

/** The saved policies as a summary list. */
function policySummary(p) {
  const w = ctx.words;
  const yes = (v) => (v ? "Yes" : "No");
  const items = [
    [`${w.Users} disabled, deleted or out of scope in Entra`, LIFECYCLE_POLICY_WORDS[p.lifecycle] || p.lifecycle],
    ["Shared mailboxes exempt", yes(p.exemptSharedMailboxes)],
    ["Send ambiguous matches to review", yes(p.reviewConflicts)],
    ["Enabled accounts only", yes(p.enabledOnly)],
    ["Licensed accounts only", yes(p.licensedOnly)],
    ["Only these email domains", listWords(p.includeDomains, "Any domain")],
    ["Leave out these email domains", listWords(p.excludeDomains, "None")],
    ["Leave out names matching", listWords(p.exclusionPatterns, "None")],
    [
      "Fields",
      h("ul", { class: "plain" }, p.fieldRules.map((r) => h("li", {}, `${FIELD_NAMES[r.field] || r.field}: ${lowerFirst(RULE_WORDS[r.rule] || r.rule)}`))),
    ],
  ];
  return h("dl", { class: "summary policies" }, items.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
}

const POLICY_ERRORS = "... on ValidationError { field }";

/**
 * "Sync policies": the saved policies, and for ADMIN keys an editor that previews them
 * (previewSyncPolicies: a dry run, followed live, with its counts and change log) and saves
 * them with that preview's id (updateSyncPolicies). Typed errors show in the card.
 */
export function policiesCard(conn, { onLeave, onSaved = () => {}, onPreview = () => {} }) {
  const titleId = uid("pol");
  const box = messageBox();
  const summary = h("div", {}, policySummary(conn.syncPolicies));
  const editBtn = adminOnly(h("button", { type: "button", class: "secondary" }, "Edit sync policies"));
  const configured = conn.status === "CONNECTED" && conn.configuration;
  if (!configured) editBtn.disabled = true;
  const editor = h("div", { class: "policy-editor", hidden: true });
  const el = h(
    "section",
    { class: "card policies", "aria-labelledby": titleId },
    h("h2", { id: titleId }, "Sync policies"),
    h("p", { class: "muted" }, "Beyond the import settings: what happens to people who leave, ambiguous matches, extra filters and how each field is written. The defaults change nothing."),
    summary,
    h("div", { class: "actions" }, editBtn),
    box.el,
    editor,
  );
  let following = null;
  onLeave(() => following && following.stop());
  editBtn.addEventListener("click", () => {
    box.clear();
    editor.hidden = false;
    editBtn.hidden = true;
    replace(editor, policyForm(conn.syncPolicies));
    const first = editor.querySelector("select, input");
    if (first) first.focus();
  });

  function policyForm(saved) {
    const w = ctx.words;
    const formBox = messageBox();
    const lifecycle = h("select", {}, Object.entries(LIFECYCLE_POLICY_WORDS).map(([v, label]) => h("option", { value: v, selected: saved.lifecycle === v }, label)));
    const checkbox = (checked) => h("input", { type: "checkbox", checked, id: uid("cb") });
    const check = (input, label, hint) =>
      h("div", { class: "choice" }, input, h("label", { for: input.id }, h("strong", {}, label), hint ? h("span", { class: "hint" }, hint) : null));
    const exempt = checkbox(saved.exemptSharedMailboxes);
    const review = checkbox(saved.reviewConflicts);
    const enabledOnly = checkbox(saved.enabledOnly);
    const licensedOnly = checkbox(saved.licensedOnly);
    const lines = (list) => h("textarea", { rows: "3", spellcheck: "false" }, list.join("\n"));
    const include = lines(saved.includeDomains);
    const exclude = lines(saved.excludeDomains);
    const patterns = lines(saved.exclusionPatterns);
    const rules = saved.fieldRules.map((r) => {
      const only = r.field === "managerEmail";
      const select = h(
        "select",
        { "aria-label": `Rule for ${FIELD_NAMES[r.field] || r.field}`, disabled: only, title: only ? "Cannot be synced yet." : null, dataset: { field: r.field } },
        Object.entries(RULE_WORDS).map(([v, label]) => h("option", { value: v, selected: r.rule === v }, label)),
      );
      return { field: r.field, select };
    });
    const previewBtn = h("button", { type: "submit", class: "primary" }, "Preview these policies");
    const saveBtn = h("button", { type: "button", class: "secondary" }, "Save these policies");
    const cancelBtn = h("button", { type: "button", class: "link" }, "Cancel");
    const previewArea = h("div", { class: "run-area", "aria-live": "polite" });
    const splitLines = (t) => t.value.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
    const policies = () => ({
      lifecycle: lifecycle.value,
      exemptSharedMailboxes: exempt.checked,
      reviewConflicts: review.checked,
      enabledOnly: enabledOnly.checked,
      licensedOnly: licensedOnly.checked,
      includeDomains: splitLines(include),
      excludeDomains: splitLines(exclude),
      exclusionPatterns: splitLines(patterns),
      fieldRules: rules.filter((r) => !r.select.disabled).map((r) => ({ field: r.field, rule: r.select.value })),
    });
    // The preview is good for exactly the policies it ran with: any edit makes it stale.
    let preview = null;
    const form = h(
      "form",
      { class: "policy-form", novalidate: true, "aria-label": "Edit sync policies" },
      h(
        "fieldset",
        {},
        h("legend", {}, "People who leave"),
        field(`${w.Users} disabled, deleted or out of scope in Entra ID`, lifecycle).wrap,
        check(exempt, "Exempt shared mailboxes", "A disabled shared mailbox, room or equipment account stays active (needs MailboxSettings.Read)."),
      ),
      h("fieldset", {}, h("legend", {}, "Ambiguous matches"), check(review, "Send ambiguous matches to review", `Never guess: wait for an admin in "Needs review".`)),
      h(
        "fieldset",
        {},
        h("legend", {}, "Filters"),
        check(enabledOnly, "Enabled accounts only"),
        check(licensedOnly, "Licensed accounts only"),
        field("Only these email domains", include, "One per line; empty: any domain.").wrap,
        field("Leave out these email domains", exclude, "One per line.").wrap,
        field("Leave out names matching", patterns, "One pattern per line, with * and ?, e.g. svc-* or room-*@contoso.com.").wrap,
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Fields"),
        h(
          "table",
          { class: "list rules" },
          h("caption", { class: "visually-hidden" }, "Field rules"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Field"), h("th", { scope: "col" }, "Rule"))),
          h("tbody", {}, rules.map((r) => h("tr", {}, h("th", { scope: "row" }, FIELD_NAMES[r.field] || r.field), h("td", {}, r.select)))),
        ),
      ),
      h("p", { class: "hint" }, "Filters and field rules are saved only after a preview of exactly these policies; lifecycle and review settings need none. Saving makes the next sync a full one."),
      formBox.el,
      h("div", { class: "actions" }, previewBtn, saveBtn, cancelBtn),
      previewArea,
    );
    form.addEventListener("input", () => {
      if (preview) {
        preview = null;
        replace(previewArea, h("p", { class: "hint" }, "The policies changed since the preview: preview them again before saving filters or field rules."));
      }
    });
    cancelBtn.addEventListener("click", () => {
      if (following) following.stop();
      editor.hidden = true;
      replace(editor);
      editBtn.hidden = false;
      editBtn.focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const proposed = policies();
      await busy(previewBtn, formBox, async () => {
        const res = await gql(
          `mutation($input: PreviewSyncPoliciesInput!) { previewSyncPolicies(input: $input) {
            ${ERROR_FIELDS} ${POLICY_ERRORS} ... on RunInProgressError { runId } ... on PreviewSyncPoliciesPayload { run { id status } } } }`,
          { input: { connectionId: conn.id, policies: proposed } },
        );
        const runId = expect(res.previewSyncPolicies, "PreviewSyncPoliciesPayload").run.id;
        const panel = progressPanel("Previewing these policies (dry run: nothing is written)");
        replace(previewArea, panel.el);
        if (following) following.stop();
        following = followRun(runId, (p) => panel.update(p));
        await following.done;
        const data = await gql(
          `query($id: ID!) { node(id: $id) { ... on SyncRun { ${RUN_FIELDS} deactivated reactivated reviewWaiting ${MASS_CHANGE_FIELDS} } } }`,
          { id: runId },
        );
        const run = data.node;
        panel.retitle("Preview of these policies");
        const ok = run.status === "SUCCEEDED";
        if (ok) preview = { runId, proposed: JSON.stringify(proposed) };
        previewArea.append(previewResult(run));
        onPreview(run);
      });
    });
    saveBtn.addEventListener("click", async () => {
      const proposed = policies();
      const runId = preview && preview.proposed === JSON.stringify(proposed) ? preview.runId : null;
      await busy(saveBtn, formBox, async () => {
        const res = await gql(
          `mutation($input: UpdateSyncPoliciesInput!) { updateSyncPolicies(input: $input) {
            ${ERROR_FIELDS} ${POLICY_ERRORS} ... on ConnectionPayload { connection { ${POLICY_FIELDS} } } } }`,
          { input: { connectionId: conn.id, policies: proposed, previewRunId: runId } },
        );
        const saved = expect(res.updateSyncPolicies, "ConnectionPayload").connection.syncPolicies;
        conn.syncPolicies = saved;
        replace(summary, policySummary(saved));
        editor.hidden = true;
        replace(editor);
        editBtn.hidden = false;
        box.info("Sync policies saved. The next sync is a full one and applies them.");
        onSaved(saved);
      });
    });
    return form;
  }

  return { el };
}

/** What a policy preview found: its counts, the lifecycle and review figures, and its log. */
function previewResult(run) {
  const w = ctx.words;
  const m = run.massChange;
  const ok = run.status === "SUCCEEDED";
  return h(
    "div",
    { class: "preview-result" },
    ok
      ? h("p", { class: "ok-text" }, "Preview finished: nothing was written. Check the change log, then save.")
      : h("p", { class: "message error", role: "alert" }, run.status === PAUSED ? "The preview stopped." : `The preview did not finish: ${sentence(run.errorMessage) || run.status}`),
    runSummary(run, { would: true }),
    h(
      "p",
      { class: "muted" },
      `Would mark inactive: ${run.deactivated} · would reactivate: ${run.reactivated} · would wait for review: ${run.reviewWaiting}`,
    ),
    m && m.tripped
      ? h("p", { class: "message info" }, `The mass-change guard would stop the first sync: it would change ${m.affectedUsers} of ${plural(m.importedUsers, `imported ${w.user}`, `imported ${w.users}`)} (${percentWords(m.share)}).`)
      : null,
    h("div", { class: "actions" }, h("a", { class: "button secondary", href: `#/runs/${run.id}` }, "Open the preview's change log")),
  );
}

// --- explain a user ------------------------------------------------------------------------

const EXPLAIN = `query($c: ID!, $email: String) { explainUser(connectionId: $c, email: $email) {
  ${ERROR_FIELDS} ... on ValidationError { field } ... on EntraUserNotFoundError { key }
  ... on UserExplanation {
    entraUser { id userPrincipalName mail displayName userType accountEnabled officeLocation department }
    filter { passed reason reasonMessage userType groupFilter groupIds }
    routing { scope classification value mapped site { name } }
    match { email by reason reasonMessage endUser { email firstName lastName site { name } } candidates { email site { name } } }
    outcome { action reason reasonMessage changes { field old new } trims site { name } endUser { email } }
    lifecycle { action reason reasonMessage }
    reviewConflicts
    reviewItem { status kindMessage resolution }
  } } }`;

const MATCH_WORDS = {
  LINK: "By its link: this Entra user was synced into it before.",
  EMAIL: "By email.",
  NONE: "No {user} has this email yet.",
  AMBIGUOUS: "Not decided: several users could be meant.",
};

const OUTCOME_WORDS = {
  CREATE: "Would create it",
  UPDATE: "Would update it",
  UNCHANGED: "Nothing to change: it is up to date",
  SKIP: "Would skip it",
  REVIEW: "Would send it to review",
};

const CHANGE_FIELD_WORDS = {
  email: "Email",
  first_name: "First name",
  last_name: "Last name",
  job_title: "Job title",
  display_name: "Display name",
  manager_email: "Manager's email",
  user_type: "User type",
  account_enabled: "Enabled",
  entra_object_id: "Entra object id",
  source: "Source",
};

function fieldLabel(name) {
  return FIELD_NAMES[name] || CHANGE_FIELD_WORDS[name] || name;
}

function explanation(x) {
  const w = ctx.words;
  const u = x.entraUser;
  const f = x.filter;
  const r = x.routing;
  const m = x.match;
  const o = x.outcome;
  const filterText = f.passed
    ? `Let in: ${f.userType === "GUEST" ? "a guest" : "a member"}${
        f.groupFilter === "SELECTED" ? `, in ${plural(f.groupIds.length, "selected group", "selected groups")}` : f.groupFilter === "ALL_GROUPS" ? ", in at least one group" : ""
      }, and no other filter leaves it out.`
    : `Left out: ${sentence(f.reasonMessage || f.reason)}`;
  let routeText;
  if (r.scope === "SITE") routeText = r.site ? `Every ${w.user} of this connection goes to ${r.site.name}.` : `This connection's ${w.site} is gone.`;
  else {
    const by = r.classification === "DEPARTMENT" ? "department" : "office";
    const value = r.value ? `“${r.value}”` : "none (Undefined)";
    routeText = r.mapped && r.site ? `Its ${by} is ${value}, mapped to ${r.site.name}.` : `Its ${by} is ${value}, which is not mapped to a ${w.site}.`;
  }
  let matchEl;
  if (!m) matchEl = h("span", { class: "muted" }, `Nothing to match: it routes to no ${w.site}.`);
  else {
    const who = m.endUser ? ` ${personName(m.endUser)} · ${m.endUser.email} · ${m.endUser.site.name}.` : "";
    matchEl = h(
      "span",
      {},
      (MATCH_WORDS[m.by] || m.by).replace("{user}", w.user),
      who,
      m.reasonMessage ? ` ${sentence(m.reasonMessage)}` : "",
      m.by === "AMBIGUOUS" && m.candidates.length
        ? h("ul", { class: "plain" }, m.candidates.map((c) => h("li", {}, `${c.email} · ${c.site.name}`)))
        : null,
    );
  }
  const changes = o.changes.map((c) =>
    h("li", {}, h("span", { class: "muted" }, `${fieldLabel(c.field)}: `), o.action === "CREATE" ? c.new || "(empty)" : h("span", {}, h("del", {}, c.old || "(empty)"), " → ", h("ins", {}, c.new || "(empty)"))),
  );
  const outcomeEl = h(
    "span",
    {},
    h("strong", {}, OUTCOME_WORDS[o.action] || o.action),
    o.action === "CREATE" && o.site ? ` in ${o.site.name}.` : ".",
    o.reasonMessage ? ` ${sentence(o.reasonMessage)}` : "",
    o.reason ? h("code", { class: "reason-code" }, o.reason) : null,
    changes.length ? h("ul", { class: "changes" }, changes) : null,
  );
  const items = [
    ["Entra user", h("span", {}, u.displayName || "(no name)", h("span", { class: "muted" }, ` · ${u.userPrincipalName || u.mail || u.id}${u.accountEnabled === false ? " · disabled" : ""}`))],
    ["Filters", filterText],
    ["Routing", routeText],
    ["Match", matchEl],
    ["Next sync", outcomeEl],
  ];
  if (x.lifecycle) {
    const l = x.lifecycle;
    const what = l.action === "INACTIVE" ? `Would mark it inactive. ${INACTIVE_REASONS[l.reason] || sentence(l.reasonMessage)}` : sentence(l.reasonMessage);
    items.push(["People who leave", what]);
  }
  if (x.reviewItem) {
    const ri = x.reviewItem;
    items.push(["Review", ri.status === "OPEN" ? `Waiting for review: ${sentence(ri.kindMessage)}` : `Reviewed: ${ri.resolution ? ri.resolution.toLowerCase() : "resolved"}.`]);
  }
  return h("dl", { class: "summary explanation" }, items.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
}

/** "Explain a user": explainUser by email, any role; the sync's own steps in plain words. */
export function explainCard(conn) {
  const w = ctx.words;
  const titleId = uid("explain");
  const box = messageBox();
  const email = h("input", { type: "text", spellcheck: "false", autocomplete: "off", placeholder: "ada@contoso.com", maxlength: "320" });
  const submit = h("button", { type: "submit", class: "secondary" }, "Explain");
  const result = h("div", { "aria-live": "polite" });
  if (conn.status !== "CONNECTED" || !conn.configuration) submit.disabled = true;
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Explain a user" },
    field("Email or user principal name", email, "Reads the user from Entra ID now; nothing is written.").wrap,
    h("div", { class: "actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = email.value.trim();
    if (!value) {
      box.error("Type the email of an Entra user first.");
      email.focus();
      return;
    }
    replace(result);
    await busy(submit, box, async () => {
      const data = await gql(EXPLAIN, { c: conn.id, email: value });
      const x = expect(data.explainUser, "UserExplanation");
      replace(result, h("h3", {}, `Why ${x.entraUser.displayName || value} is synced as it is`), explanation(x));
    });
  });
  return h(
    "section",
    { class: "card explain", "aria-labelledby": titleId },
    h("h2", { id: titleId }, "Explain a user"),
    h("p", { class: "muted" }, `Which filter lets an Entra user in or out, which ${w.site} it goes to, which ${w.user} it matches, and what the next sync would do.`),
    form,
    box.el,
    result,
  );
}
