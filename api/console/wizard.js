// The import wizard (W1-W7): classification, value-to-site mapping, groups, user types,
// preview (dry run) and import. The draft lives in memory and in sessionStorage, so a failed
// step or a reload loses nothing typed.

import { ERROR_FIELDS, expect, followRun, gql, PAUSED } from "./api.js";
import { busy, field, h, messageBox, plural, replace, sentence, uid } from "./dom.js";
import {
  adminOnly,
  changeLogList,
  CONNECTION_FIELDS,
  ctx,
  loadAllSites,
  progressPanel,
  RUN_FIELDS,
  runSummary,
  spinner,
  statusBadge,
} from "./ui.js";

const GROUP_LIMIT = 999;
const UNDEFINED = "Undefined";

function draftKey(id) {
  return `entrasync.draft.${id}`;
}

function saveDraft(id, draft) {
  sessionStorage.setItem(draftKey(id), JSON.stringify(draft));
}

function initialDraft(conn) {
  const conf = conn.configuration;
  const draft = {
    step: 0,
    classification: (conf && conf.classification) || "OFFICE",
    // per classification: {value: {target: "" | "new" | siteId, newName}}
    mappings: { OFFICE: {}, DEPARTMENT: {} },
    groupFilter: (conf && conf.groupFilter) || "NONE",
    groups: {}, // id -> display name (ids only, until the list shows their names)
    userTypes: (conf && conf.userTypes) || ["MEMBER"],
    matchAttribute: (conf && conf.matchAttribute) || "UPN",
    previewRunId: null,
    importRunId: null,
  };
  if (conf) {
    for (const m of conf.mappings) {
      draft.mappings[draft.classification][m.value] = { target: m.site ? m.site.id : "", newName: "" };
    }
    for (const gid of conf.selectedGroupIds) draft.groups[gid] = null;
  }
  return draft;
}

export async function wizardView(root, id, { onLeave, go }) {
  const w = ctx.words;
  const [data, sites] = await Promise.all([
    gql(`query($id: ID!) { node(id: $id) { __typename ... on TenantConnection { ${CONNECTION_FIELDS} } } }`, { id }),
    loadAllSites(),
  ]);
  const conn = data.node;
  if (!conn || conn.__typename !== "TenantConnection") {
    replace(root, h("h1", { tabindex: "-1" }, "Connection not found"), h("p", {}, h("a", { href: "#/connections" }, "Back to the connections")));
    return;
  }
  const tenant = conn.tenantName || "the tenant";
  if (conn.status !== "CONNECTED") {
    replace(
      root,
      h("h1", { tabindex: "-1" }, `Set up the import from ${tenant}`),
      h("p", {}, statusBadge(conn.status), " ", sentence(conn.statusMessage) || "The tenant is not connected."),
      h("p", {}, h("a", { href: `#/connections/${id}` }, "Open the connection"), " to sign in again."),
    );
    return;
  }

  let draft;
  try {
    draft = JSON.parse(sessionStorage.getItem(draftKey(id)) || "null");
  } catch {
    draft = null;
  }
  if (!draft) draft = initialDraft(conn);
  const persist = () => saveDraft(id, draft);

  const account = conn.scope === "ACCOUNT";
  const steps = account
    ? ["classify", "map", "groups", "types", "preview", "import"]
    : ["groups", "types", "preview", "import"];
  const titles = {
    classify: "Sort by",
    map: `Map to ${w.sites}`,
    groups: "Groups",
    types: "User types",
    preview: "Preview",
    import: "Import",
  };
  draft.step = Math.min(draft.step || 0, steps.length - 1);
  let visited = draft.step;

  const stepper = h("ol", { class: "stepper", "aria-label": "Steps" });
  const body = h("section", { class: "card step" });
  let cleanup = [];
  onLeave(() => cleanup.forEach((fn) => fn()));

  replace(
    root,
    h("p", { class: "crumbs" }, h("a", { href: "#/connections" }, "Connections"), " / ", h("a", { href: `#/connections/${id}` }, tenant), " / Import"),
    h("h1", { tabindex: "-1" }, `Import ${w.users} from ${tenant}`),
    stepper,
    body,
  );

  function renderStepper() {
    replace(
      stepper,
      steps.map((s, i) => {
        const label = `${i + 1}. ${titles[s]}`;
        const current = i === draft.step;
        const reachable = i <= visited && !current && steps[i] !== "import" && !(steps[draft.step] === "import");
        return h(
          "li",
          { class: current ? "current" : i < draft.step ? "done" : "", "aria-current": current ? "step" : null },
          reachable ? h("button", { type: "button", class: "link", onclick: () => show(i) }, label) : h("span", {}, label),
        );
      }),
    );
  }

  function show(index) {
    cleanup.forEach((fn) => fn());
    cleanup = [];
    draft.step = index;
    visited = Math.max(visited, index);
    persist();
    renderStepper();
    const name = steps[index];
    const heading = h("h2", { tabindex: "-1" }, stepHeading(name));
    replace(body, heading);
    const nav = {
      back: index > 0 ? () => show(index - 1) : null,
      next: () => show(index + 1),
    };
    RENDER[name](body, nav);
    heading.focus();
  }

  function stepHeading(name) {
    const field = draft.classification === "DEPARTMENT" ? "department" : "office";
    return {
      classify: `How should ${w.users} be sorted into ${w.sites}?`,
      map: `Which ${w.site} does each ${field} go to?`,
      groups: "Which groups should be imported?",
      types: "Members, guests, or both?",
      preview: "Preview the import",
      import: "Import",
    }[name];
  }

  function navButtons(nav, { nextLabel = "Next", onNext } = {}) {
    const box = messageBox();
    const back = nav.back ? h("button", { type: "button", class: "secondary", onclick: nav.back }, "Back") : null;
    const next = h("button", { type: "button", class: "primary" }, nextLabel);
    next.addEventListener("click", async () => {
      box.clear();
      try {
        if (onNext && (await onNext(box)) === false) return;
        nav.next();
      } catch (err) {
        box.error(err.message);
      }
    });
    return { el: h("div", {}, box.el, h("div", { class: "actions wizard-nav" }, back, next)), box, next };
  }

  // --- W1 -------------------------------------------------------------------------------
  function renderClassify(el, nav) {
    const choices = [
      ["OFFICE", "Office", "The Office field (officeLocation) of each user in Entra ID."],
      ["DEPARTMENT", "Department", "The Department field of each user in Entra ID."],
    ];
    const group = h("fieldset", {}, h("legend", { class: "visually-hidden" }, "Sort by"),
      choices.map(([value, label, hint]) => {
        const input = h("input", { type: "radio", name: "classification", value, id: uid("cl"), checked: draft.classification === value });
        input.addEventListener("change", () => {
          draft.classification = value;
          persist();
        });
        return h("div", { class: "choice" }, input, h("label", { for: input.id }, h("strong", {}, label), h("span", { class: "hint" }, hint)));
      }));
    el.append(
      h("p", {}, `Each value of the field you pick becomes a row you map to a ${w.site}. ${w.Users} with no value are grouped as “${UNDEFINED}”.`),
      group,
      navButtons(nav).el,
    );
  }

  // --- W2/W3 ----------------------------------------------------------------------------
  function renderMap(el, nav) {
    const fieldName = draft.classification === "DEPARTMENT" ? "Department" : "Office";
    const box = messageBox();
    const area = h("div", {}, spinner(`Reading ${fieldName.toLowerCase()} values from ${tenant}…`));
    el.append(
      h("p", {}, `Each ${fieldName.toLowerCase()} in ${tenant}, with its number of ${w.users}. Send it to an existing ${w.site} or to a new one; values left on “Don't import” are not imported.`),
      box.el,
      area,
    );
    const mapping = draft.mappings[draft.classification];
    let byName = new Map(sites.list.map((s) => [s.name.toLowerCase(), s]));
    let values = [];
    const rowErrors = new Map();
    const summary = h("p", { class: "muted", "aria-live": "polite" });

    function targetOf(value) {
      if (!mapping[value]) {
        const same = byName.get(value.toLowerCase());
        mapping[value] = { target: same ? same.id : "", newName: "" };
      }
      return mapping[value];
    }

    function defaultName(value) {
      return value === UNDEFINED ? `No ${fieldName.toLowerCase()}` : value;
    }

    function updateSummary() {
      const mapped = values.filter((v) => targetOf(v.value).target);
      const users = mapped.reduce((n, v) => n + v.userCount, 0);
      const all = values.reduce((n, v) => n + v.userCount, 0);
      replace(summary, `${mapped.length} of ${plural(values.length, "value", "values")} mapped: ${users.toLocaleString("en")} of ${all.toLocaleString("en")} ${w.users} would be imported, before the group and user type filters. Unmapped values are not imported.`);
    }

    function row(v) {
      const t = targetOf(v.value);
      const label = v.value === UNDEFINED ? h("span", {}, h("em", {}, UNDEFINED), h("span", { class: "muted small" }, ` (no ${fieldName.toLowerCase()})`)) : v.value;
      const select = h(
        "select",
        { "aria-label": `${w.Site} for ${v.value}` },
        h("option", { value: "" }, "Don't import"),
        h("option", { value: "new", selected: t.target === "new" }, `New ${w.site}…`),
        h("optgroup", { label: `Existing ${w.sites}` }, sites.list.map((s) => h("option", { value: s.id, selected: t.target === s.id }, s.name))),
      );
      if (!t.target) select.value = "";
      const name = h("input", { type: "text", maxlength: "200", value: t.newName || defaultName(v.value), "aria-label": `Name of the new ${w.site} for ${v.value}`, hidden: t.target !== "new" });
      const err = h("p", { class: "field-error", hidden: true });
      rowErrors.set(v.value, { err, name });
      select.addEventListener("change", () => {
        t.target = select.value;
        if (t.target === "new" && !t.newName) t.newName = defaultName(v.value);
        name.value = t.newName;
        name.hidden = t.target !== "new";
        err.hidden = true;
        persist();
        updateSummary();
        if (t.target === "new") name.focus();
      });
      name.addEventListener("input", () => {
        t.newName = name.value;
        persist();
      });
      return h("tr", {}, h("th", { scope: "row" }, label), h("td", { class: "num" }, v.userCount.toLocaleString("en")), h("td", {}, h("div", { class: "map-target" }, select, name), err));
    }

    const nav2 = navButtons(nav, {
      onNext: async (navBox) => {
        let firstBad = null;
        let mapped = 0;
        for (const v of values) {
          const t = targetOf(v.value);
          const { err, name } = rowErrors.get(v.value);
          err.hidden = true;
          if (!t.target) continue;
          mapped += 1;
          if (t.target !== "new") continue;
          const newName = (t.newName || "").trim();
          let problem = null;
          if (!newName) problem = `Type a name for the new ${w.site}.`;
          else if (byName.has(newName.toLowerCase())) problem = `A ${w.site} named “${byName.get(newName.toLowerCase()).name}” already exists: pick it from the list instead.`;
          if (problem) {
            replace(err, problem);
            err.hidden = false;
            name.setAttribute("aria-invalid", "true");
            firstBad = firstBad || name;
          } else name.removeAttribute("aria-invalid");
        }
        if (!mapped) {
          navBox.error(`Map at least one value to a ${w.site}: unmapped values are not imported.`);
          return false;
        }
        if (firstBad) {
          navBox.error("Some rows need attention.");
          firstBad.focus();
          return false;
        }
        persist();
        return true;
      },
    });

    const bulk = h("button", { type: "button", class: "secondary" }, `New ${w.site} for each unmapped value`);
    bulk.addEventListener("click", () => {
      for (const v of values) {
        const t = targetOf(v.value);
        if (!t.target) {
          const same = byName.get(defaultName(v.value).toLowerCase());
          if (same) t.target = same.id;
          else {
            t.target = "new";
            t.newName = t.newName || defaultName(v.value);
          }
        }
      }
      persist();
      drawTable();
    });

    function drawTable() {
      rowErrors.clear();
      const table = h(
        "table",
        { class: "list mapping" },
        h("caption", { class: "visually-hidden" }, `${fieldName} values and their ${w.sites}`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, fieldName), h("th", { scope: "col", class: "num" }, w.Users), h("th", { scope: "col" }, `Import into`))),
        h("tbody", {}, values.map(row)),
      );
      replace(area, h("div", { class: "actions" }, bulk), table, summary);
      updateSummary();
    }

    el.append(nav2.el);
    nav2.next.disabled = true;
    (async () => {
      try {
        // Sites may have been added meanwhile (here or elsewhere): offer the current list.
        const fresh = await loadAllSites();
        sites.list = fresh.list;
        sites.names = fresh.names;
        byName = new Map(sites.list.map((s) => [s.name.toLowerCase(), s]));
        const res = await gql(
          `query($c: ID!, $k: Classification!) { directoryValues(connectionId: $c, classification: $k) {
            ${ERROR_FIELDS} ... on DirectoryValues { values { value userCount } } } }`,
          { c: id, k: draft.classification },
        );
        values = expect(res.directoryValues, "DirectoryValues").values;
        drawTable();
        nav2.next.disabled = false;
      } catch (err) {
        replace(area);
        box.error(err.message);
        const retry = h("button", { type: "button", class: "secondary", onclick: () => show(draft.step) }, "Try again");
        area.append(retry);
      }
    })();
  }

  // --- W4 -------------------------------------------------------------------------------
  function renderGroups(el, nav) {
    const options = [
      ["NONE", `All ${w.users}`, "No group filter."],
      ["ALL_GROUPS", "Only people in at least one group", "Users who belong to no group are skipped."],
      ["SELECTED", "Only members of the groups I pick", `Up to ${GROUP_LIMIT} groups. Membership is transitive: members of nested groups count.`],
    ];
    const picker = h("div", { class: "group-picker" });
    const fieldset = h("fieldset", {}, h("legend", { class: "visually-hidden" }, "Group filter"),
      options.map(([value, label, hint]) => {
        const input = h("input", { type: "radio", name: "groupFilter", value, id: uid("gf"), checked: draft.groupFilter === value });
        input.addEventListener("change", () => {
          draft.groupFilter = value;
          persist();
          picker.hidden = value !== "SELECTED";
          if (value === "SELECTED" && !picker.dataset.loaded) buildPicker();
        });
        return h("div", { class: "choice" }, input, h("label", { for: input.id }, h("strong", {}, label), h("span", { class: "hint" }, hint)));
      }));
    picker.hidden = draft.groupFilter !== "SELECTED";
    el.append(fieldset, picker);
    if (draft.groupFilter === "SELECTED") buildPicker();

    function buildPicker() {
      picker.dataset.loaded = "1";
      const box = messageBox();
      const search = h("input", { type: "search", spellcheck: "false", autocomplete: "off" });
      const searchField = field("Search the tenant's groups", search, "Type part of a group name.");
      const results = h("div", { class: "group-results" });
      const more = h("button", { type: "button", class: "secondary", hidden: true }, "Show more groups");
      const count = h("p", { class: "group-count", "aria-live": "polite" });
      const chips = h("ul", { class: "chips", "aria-label": "Selected groups" });
      let cursor = null;
      let seq = 0;
      let timer = null;
      cleanup.push(() => clearTimeout(timer));

      function selectedIds() {
        return Object.keys(draft.groups);
      }
      function drawSelection() {
        const n = selectedIds().length;
        replace(count, `${plural(n, "group", "groups")} selected — you can select up to ${GROUP_LIMIT}.`);
        count.classList.toggle("at-limit", n >= GROUP_LIMIT);
        replace(
          chips,
          selectedIds().map((gid) =>
            h("li", {}, draft.groups[gid] || gid,
              h("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${draft.groups[gid] || gid}`, onclick: () => toggle(gid, null, false) }, "×")),
          ),
        );
        for (const input of results.querySelectorAll("input[type=checkbox]")) {
          const on = input.value in draft.groups;
          input.checked = on;
          input.disabled = !on && n >= GROUP_LIMIT;
        }
      }
      function toggle(gid, name, on) {
        if (on) {
          if (selectedIds().length >= GROUP_LIMIT) {
            box.error(`You can select up to ${GROUP_LIMIT} groups. Choose “Only people in at least one group” to take every group.`);
            drawSelection();
            return;
          }
          draft.groups[gid] = name;
        } else delete draft.groups[gid];
        persist();
        drawSelection();
      }
      async function load(reset) {
        const mine = ++seq;
        if (reset) {
          cursor = null;
          replace(results, spinner("Loading groups…"));
        }
        box.clear();
        try {
          const res = await gql(
            `query($c: ID!, $q: String, $after: String) { directoryGroups(connectionId: $c, search: $q, first: 50, after: $after) {
              ${ERROR_FIELDS} ... on DirectoryGroups { groups { id displayName mail securityEnabled } nextCursor } } }`,
            { c: id, q: search.value.trim() || null, after: cursor },
          );
          if (mine !== seq) return;
          const page = expect(res.directoryGroups, "DirectoryGroups");
          if (reset) replace(results);
          let list = results.querySelector("ul");
          if (!list) {
            list = h("ul", { class: "checklist", "aria-label": "Groups" });
            results.append(list);
          }
          for (const g of page.groups) {
            if (g.id in draft.groups && !draft.groups[g.id]) draft.groups[g.id] = g.displayName;
            const input = h("input", { type: "checkbox", value: g.id, id: uid("g"), checked: g.id in draft.groups });
            input.addEventListener("change", () => toggle(g.id, g.displayName, input.checked));
            list.append(h("li", {}, input, h("label", { for: input.id }, g.displayName, g.mail ? h("span", { class: "muted small" }, ` ${g.mail}`) : null)));
          }
          if (!list.children.length) replace(results, h("p", { class: "empty" }, "No group matches."));
          cursor = page.nextCursor;
          more.hidden = !cursor;
          drawSelection();
        } catch (err) {
          if (mine !== seq) return;
          if (reset) replace(results);
          box.error(err.message);
        }
      }
      search.addEventListener("input", () => {
        clearTimeout(timer);
        timer = setTimeout(() => load(true), 300);
      });
      search.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          clearTimeout(timer);
          load(true);
        }
      });
      more.addEventListener("click", () => load(false));
      replace(picker, searchField.wrap, box.el, results, more, count, chips);
      drawSelection();
      load(true);
    }

    el.append(
      navButtons(nav, {
        onNext: async (box) => {
          if (draft.groupFilter === "SELECTED" && !Object.keys(draft.groups).length) {
            box.error("Pick at least one group, or choose another option.");
            return false;
          }
          return true;
        },
      }).el,
    );
  }

  // --- W5 -------------------------------------------------------------------------------
  function renderTypes(el, nav) {
    const counts = h("span", {});
    const types = [
      ["MEMBER", "Members", "People of the organisation."],
      ["GUEST", "Guests", "People invited from outside (B2B)."],
    ];
    const countEls = {};
    const fieldset = h("fieldset", {}, h("legend", {}, "Import these user types"),
      types.map(([value, label, hint]) => {
        const input = h("input", { type: "checkbox", value, id: uid("ut"), checked: draft.userTypes.includes(value) });
        input.addEventListener("change", () => {
          draft.userTypes = types.map(([v]) => v).filter((v) => (v === value ? input.checked : draft.userTypes.includes(v)));
          persist();
        });
        countEls[value] = h("span", { class: "count" });
        return h("div", { class: "choice" }, input, h("label", { for: input.id }, h("strong", {}, label, " ", countEls[value]), h("span", { class: "hint" }, hint)));
      }));
    const match = h("fieldset", {}, h("legend", {}, "Match existing people by"),
      [
        ["UPN", "User principal name", "The sign-in name, e.g. grace@contoso.com (recommended)."],
        ["MAIL", "Mail attribute", "The email address in the Mail field; users without one are skipped."],
      ].map(([value, label, hint]) => {
        const input = h("input", { type: "radio", name: "match", value, id: uid("ma"), checked: draft.matchAttribute === value });
        input.addEventListener("change", () => {
          draft.matchAttribute = value;
          persist();
        });
        return h("div", { class: "choice" }, input, h("label", { for: input.id }, h("strong", {}, label), h("span", { class: "hint" }, hint)));
      }));
    const box = messageBox();
    el.append(box.el, fieldset, match, counts,
      navButtons(nav, {
        onNext: async (navBox) => {
          if (!draft.userTypes.length) {
            navBox.error("Choose members, guests, or both.");
            fieldset.querySelector("input").focus();
            return false;
          }
          return true;
        },
      }).el);
    gql(`query($c: ID!) { directoryUserTypes(connectionId: $c) { ${ERROR_FIELDS} ... on UserTypeCounts { members guests } } }`, { c: id })
      .then((res) => {
        const c = expect(res.directoryUserTypes, "UserTypeCounts");
        replace(countEls.MEMBER, `(${c.members.toLocaleString("en")})`);
        replace(countEls.GUEST, `(${c.guests.toLocaleString("en")})`);
      })
      .catch((err) => box.error(err.message));
  }

  // --- preview (R7) and import ------------------------------------------------------------
  function configurationInput() {
    const input = {
      connectionId: id,
      groupFilter: draft.groupFilter,
      selectedGroupIds: draft.groupFilter === "SELECTED" ? Object.keys(draft.groups) : [],
      userTypes: draft.userTypes,
      matchAttribute: draft.matchAttribute,
    };
    if (account) {
      input.classification = draft.classification;
      input.mappings = Object.entries(draft.mappings[draft.classification])
        .filter(([, t]) => t.target)
        .map(([value, t]) => (t.target === "new" ? { value, newSiteName: t.newName.trim() } : { value, siteId: t.target }));
    }
    return input;
  }

  async function saveConfiguration() {
    const res = await gql(
      `mutation($input: ConfigureImportInput!) { configureImport(input: $input) {
        ${ERROR_FIELDS} ... on ConfigureImportPayload { configuration { mappings { value site { id name } } } } } }`,
      { input: configurationInput() },
    );
    const payload = expect(res.configureImport, "ConfigureImportPayload");
    if (account) {
      // New sites now exist: remember them by id, so saving again does not create them twice.
      const mapping = draft.mappings[draft.classification];
      for (const m of payload.configuration.mappings) {
        if (m.site && mapping[m.value]) {
          mapping[m.value] = { target: m.site.id, newName: "" };
          if (!sites.names.has(m.site.id)) {
            sites.list.push(m.site);
            sites.names.set(m.site.id, m.site.name);
          }
        }
      }
      persist();
    }
  }

  function choicesSummary() {
    const items = [];
    if (account) {
      const mapping = draft.mappings[draft.classification];
      const mapped = Object.entries(mapping).filter(([, t]) => t.target);
      items.push(["Sorted by", draft.classification === "DEPARTMENT" ? "Department" : "Office"]);
      items.push([
        `Into ${w.sites}`,
        h("ul", { class: "plain" }, mapped.map(([value, t]) => h("li", {}, `${value} → ${t.target === "new" ? `${t.newName.trim()} (new)` : sites.names.get(t.target) || "?"}`))),
      ]);
    } else {
      items.push([w.Site, conn.site ? conn.site.name : "?"]);
    }
    const n = Object.keys(draft.groups).length;
    items.push(["Groups", { NONE: "No group filter", ALL_GROUPS: "People in at least one group", SELECTED: `Members of ${plural(n, "group", "groups")}` }[draft.groupFilter]]);
    items.push(["User types", draft.userTypes.map((t) => (t === "MEMBER" ? "Members" : "Guests")).join(" and ")]);
    items.push(["Matched by", draft.matchAttribute === "MAIL" ? "Mail attribute" : "User principal name"]);
    return h("dl", { class: "summary" }, items.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))));
  }

  async function runAndShow(area, dry, box) {
    const res = await gql(
      `mutation($c: ID!, $dry: Boolean!) { startSync(input: {connectionId: $c, dryRun: $dry}) {
        ${ERROR_FIELDS} ... on SyncRunPayload { alreadyRunning run { id dryRun } } } }`,
      { c: id, dry },
    );
    const payload = expect(res.startSync, "SyncRunPayload");
    if (payload.alreadyRunning && payload.run.dryRun !== dry) {
      box.info("Another run of this connection is going; it is shown below. Start again when it ends.");
    }
    const panel = progressPanel(dry ? "Preview (dry run: nothing is written)" : "Progress");
    replace(area, panel.el);
    const follow = followRun(payload.run.id, (p) => panel.update(p));
    cleanup.push(() => follow.stop());
    await follow.done;
    const data2 = await gql(`query($id: ID!) { node(id: $id) { ... on SyncRun { ${RUN_FIELDS} } } }`, { id: payload.run.id });
    return data2.node;
  }

  function previewDetails(run) {
    const tabs = [
      ["CREATE", `Would create (${run.created})`, null],
      ["UPDATE", `Would update (${run.updated})`, null],
      ["SKIP", `Would skip (${run.skippedByFilter + run.skippedUnmapped + run.errors})`, null],
    ];
    const panelArea = h("div", { class: "tab-panel" });
    const buttons = tabs.map(([action, label]) => {
      const b = h("button", { type: "button", class: "tab", "aria-pressed": "false" }, label);
      b.addEventListener("click", () => select(action));
      return [action, b];
    });
    function select(action) {
      for (const [a, b] of buttons) b.setAttribute("aria-pressed", String(a === action));
      const list = changeLogList(run.id, { action }, sites.names, tabs.find(([a]) => a === action)[1], { first: 10, dry: true });
      replace(panelArea, list.el);
      list.load();
    }
    const el = h("div", { class: "preview-details" }, h("div", { class: "tabs", role: "group", "aria-label": "Show" }, buttons.map(([, b]) => b)), panelArea);
    select(run.created ? "CREATE" : run.updated ? "UPDATE" : "SKIP");
    return el;
  }

  function renderPreview(el, nav) {
    const box = messageBox();
    const area = h("div", { class: "run-area" });
    const previewBtn = adminOnly(h("button", { type: "button", class: "primary" }, "Save and preview"));
    const saveOnly = adminOnly(h("button", { type: "button", class: "secondary" }, "Save without importing"));
    const importBtn = adminOnly(h("button", { type: "button", class: "primary", hidden: true }, "Import now"));
    const back = h("button", { type: "button", class: "secondary", onclick: nav.back }, "Back");
    el.append(
      h("p", {}, `A preview is a dry run: it reads ${tenant} and reports what the import would do, and why — nothing is written. Then import for real.`),
      choicesSummary(),
      box.el,
      area,
      h("div", { class: "actions wizard-nav" }, back, saveOnly, previewBtn, importBtn),
    );
    previewBtn.addEventListener("click", () =>
      busy(previewBtn, box, async () => {
        await saveConfiguration();
        const run = await runAndShow(area, true, box);
        draft.previewRunId = run.id;
        persist();
        area.append(
          run.status === "SUCCEEDED"
            ? h("p", { class: "ok-text" }, "Preview ready: this is what the import would do.")
            : h("p", { class: "message error", role: "alert" }, sentence(run.errorMessage) || "The preview did not finish."),
          runSummary(run),
          run.status === "SUCCEEDED" ? previewDetails(run) : null,
        );
        previewBtn.textContent = "Preview again";
        previewBtn.classList.replace("primary", "secondary");
        importBtn.hidden = run.status !== "SUCCEEDED";
        if (!importBtn.hidden) importBtn.focus();
      }),
    );
    saveOnly.addEventListener("click", () =>
      busy(saveOnly, box, async () => {
        await saveConfiguration();
        sessionStorage.removeItem(draftKey(id));
        go(`#/connections/${id}`);
      }),
    );
    importBtn.addEventListener("click", () => nav.next());
  }

  function renderImport(el, nav) {
    const box = messageBox();
    const area = h("div", { class: "run-area" });
    const after = h("div", {});
    el.append(box.el, area, after);
    (async () => {
      try {
        await saveConfiguration();
        const run = await runAndShow(area, false, box);
        draft.importRunId = run.id;
        sessionStorage.removeItem(draftKey(id));
        const paused = run.status === PAUSED;
        area.append(
          run.status === "SUCCEEDED"
            ? h("p", { class: "ok-text", role: "status" }, `Import finished: ${plural(run.created, `${w.user} created`, `${w.users} created`)}, ${run.updated} updated.`)
            : paused
              ? h("p", { class: "message info", role: "status" }, sentence(run.errorMessage), " ",
                  h("a", { href: `#/connections/${id}` }, "Apply or discard it on the connection page"), ".")
              : h("p", { class: "message error", role: "alert" }, sentence(run.errorMessage) || "The import did not finish."),
          runSummary(run, { would: run.dryRun || paused }),
        );
        replace(
          after,
          h(
            "div",
            { class: "actions" },
            h("a", { class: "button primary", href: "#/users?source=ENTRA" }, `See the imported ${w.users}`),
            h("a", { class: "button secondary", href: `#/runs/${run.id}` }, "Open the change log"),
            h("a", { class: "button secondary", href: `#/connections/${id}` }, "Schedule syncs"),
          ),
        );
        after.querySelector("a").focus();
      } catch (err) {
        box.error(err.message);
        replace(after, h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: nav.back }, "Back to the preview")));
      }
    })();
  }

  const RENDER = {
    classify: renderClassify,
    map: renderMap,
    groups: renderGroups,
    types: renderTypes,
    preview: renderPreview,
    import: renderImport,
  };

  // Landing on "import" from a reload would start another import: go back to the preview.
  if (steps[draft.step] === "import") draft.step = steps.indexOf("preview");
  show(draft.step);
}
