// The dashboard: a small single-page client of the inspector JSON API.
// Views are chosen by the URL's hash (#/, #/node/<uuid>, #/rules). All text
// from the API goes into the page through textContent, never as HTML.
"use strict";

const API_VERSION = "1.19";
const REFRESH_MS = 2000;
const STATES = ["starting", "waiting", "processing", "finished", "error",
  "aborting", "enrolling", "reapplying"];

let session = { actions: {} };
let refreshTimer = null;

// ---- helpers -------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function cookie(name) {
  for (const pair of document.cookie.split(";")) {
    const [key, ...rest] = pair.trim().split("=");
    if (key === name) return rest.join("=");
  }
  return null;
}

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(method, path, body) {
  const headers = { "X-OpenStack-Ironic-Inspector-API-Version": API_VERSION };
  const csrf = cookie("inspector_csrf");
  if (csrf) headers["X-CSRF-Token"] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const challenge = response.headers.get("WWW-Authenticate") || "";
  if (response.status === 401 && challenge.startsWith("Keystone")) {
    location.assign("/dashboard/login");
    throw new ApiError(401, "Your session has expired");
  }
  const text = await response.text();
  let doc = null;
  try { doc = text ? JSON.parse(text) : null; } catch (e) { doc = null; }
  if (!response.ok) {
    const message = doc && doc.error && doc.error.message ? doc.error.message : text;
    throw new ApiError(response.status, `${response.status}: ${message}`);
  }
  return doc;
}

function notify(message, kind) {
  const notice = document.getElementById("notice");
  notice.textContent = message;
  notice.className = kind || "";
}

function fmtTime(value) {
  return value ? value.replace("T", " ").replace(/\.\d+/, "") : "—";
}

function fmtBytes(bytes) {
  if (typeof bytes !== "number") return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
  return `${bytes.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function stateBadge(state) {
  return h("span", { class: `badge state-${state}`, text: state });
}

function main() { return document.getElementById("main"); }

function show(...children) {
  const m = main();
  m.replaceChildren(...children);
}

function table(caption, headings, rows, id) {
  return h("div", { class: "table-wrap" },
    h("table", { id },
      h("caption", { text: caption }),
      h("thead", {}, h("tr", {}, headings.map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, rows.map((cells) => h("tr", {},
        cells.map((cell, i) => h("td", { "data-label": headings[i] }, cell)))))));
}

function stopRefresh() {
  if (refreshTimer) clearInterval(refreshTimer);
  refreshTimer = null;
}

function liveRefresh(load) {
  const box = h("input", { type: "checkbox", id: "live-refresh", checked: true });
  const label = h("label", { for: "live-refresh", class: "inline" }, box, " Live refresh");
  const start = () => { stopRefresh(); refreshTimer = setInterval(load, REFRESH_MS); };
  box.addEventListener("change", () => (box.checked ? start() : stopRefresh()));
  start();
  return label;
}

function actionButton(id, label, action, run) {
  if (!session.actions[action]) return null;
  return h("button", { type: "button", id, onclick: run }, label);
}

async function act(description, call, after) {
  try {
    await call();
    notify(`${description}: done`, "ok");
  } catch (e) {
    notify(`${description} failed: ${e.message}`, "error");
  }
  if (after) await after();
}

// ---- the introspection list ----------------------------------------------

function listView(params) {
  const state = params.get("state") || "";
  const select = h("select", { id: "state-filter", name: "state" },
    h("option", { value: "", text: "All states" }),
    STATES.map((s) => h("option", { value: s, selected: s === state, text: s })));
  select.addEventListener("change", () => {
    location.hash = select.value ? `#/?state=${encodeURIComponent(select.value)}` : "#/";
  });
  const body = h("div", { id: "introspections" });
  const updated = h("p", { class: "muted", id: "updated" });
  const load = async () => {
    try {
      const query = state ? `?state=${encodeURIComponent(state)}` : "";
      const doc = await api("GET", `/v1/introspection${query}`);
      const rows = doc.introspection.map((n) => [
        h("a", { href: `#/node/${n.uuid}`, class: "mono", text: n.uuid }),
        stateBadge(n.state), fmtTime(n.started_at), fmtTime(n.finished_at), n.error || "",
      ]);
      body.replaceChildren(rows.length
        ? table("Introspections, newest first", ["Node", "State", "Started", "Finished", "Error"], rows, "introspection-table")
        : h("p", { id: "empty", text: "No introspection matches." }));
      updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      body.replaceChildren(h("p", { class: "error", role: "alert", text: e.message }));
    }
  };
  const startForm = session.actions.start ? startNodeForm() : null;
  show(
    h("h2", { text: "Introspections" }),
    h("div", { class: "toolbar" },
      h("div", {}, h("label", { for: "state-filter" }, "State"), select),
      liveRefresh(load)),
    startForm, body, updated);
  load();
}

function startNodeForm() {
  const input = h("input", { id: "start-node", name: "node", required: true, autocomplete: "off" });
  const form = h("form", { class: "inline-form", id: "start-form" },
    h("label", { for: "start-node" }, "Node UUID or name"), input,
    h("button", { type: "submit" }, "Start introspection"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const node = input.value.trim();
    act(`Start introspection of ${node}`,
      () => api("POST", `/v1/introspection/${encodeURIComponent(node)}`));
  });
  return form;
}

// ---- one node --------------------------------------------------------------

function lldpTlvs(tlvs) {
  // Raw LLDP from the ramdisk: [type, hex] pairs. 1 chassis ID, 2 port ID,
  // 5 system name; the first byte of 1 and 2 is the subtype.
  const out = {};
  const bytes = (hex) => (hex.match(/../g) || []).map((b) => parseInt(b, 16));
  const text = (list) => String.fromCharCode(...list);
  const mac = (list) => list.map((b) => b.toString(16).padStart(2, "0")).join(":");
  for (const [type, hex] of tlvs || []) {
    const b = bytes(hex || "");
    if (type === 1 && b.length) out.chassis = b[0] === 4 ? mac(b.slice(1)) : text(b.slice(1));
    if (type === 2 && b.length) out.port = b[0] === 3 ? mac(b.slice(1)) : text(b.slice(1));
    if (type === 5) out.system = text(b);
  }
  return out;
}

function lldpOf(data, iface) {
  const processed = data.all_interfaces && data.all_interfaces[iface.name]
    && data.all_interfaces[iface.name].lldp_processed;
  if (processed) {
    return {
      system: processed.switch_system_name,
      chassis: processed.switch_chassis_id,
      port: processed.switch_port_id,
    };
  }
  return lldpTlvs(iface.lldp);
}

function inventorySection(data) {
  const inv = data.inventory || {};
  const cpu = inv.cpu || {};
  const memory = inv.memory || {};
  const rootName = data.root_disk && data.root_disk.name;
  const disks = (inv.disks || []).map((d) => [
    d.name, d.model || "", fmtBytes(d.size), d.rotational ? "HDD" : "SSD", d.serial || "",
    d.name === rootName ? h("strong", { class: "badge root", text: "root disk" }) : "",
  ]);
  const nics = (inv.interfaces || []).map((i) => {
    const lldp = lldpOf(data, i);
    const switchName = [lldp.system, lldp.chassis].filter(Boolean).join(" / ");
    return [i.name, h("span", { class: "mono", text: i.mac_address || "" }),
      i.ipv4_address || "", i.speed_mbps ? `${i.speed_mbps} Mb/s` : "",
      switchName || "—", lldp.port || "—"];
  });
  const vendor = inv.system_vendor || {};
  const facts = [
    ["CPUs", `${cpu.count ?? "?"} × ${cpu.model_name || "unknown model"} (${cpu.architecture || "?"})`],
    ["Memory", memory.physical_mb ? `${memory.physical_mb} MiB` : fmtBytes(memory.total)],
    ["BMC", [inv.bmc_address, inv.bmc_v6address].filter((a) => a && a !== "0.0.0.0" && a !== "::/0").join(", ") || "—"],
    ["System", [vendor.manufacturer, vendor.product_name, vendor.serial_number].filter(Boolean).join(" · ") || "—"],
    ["Boot", inv.boot ? `${inv.boot.current_boot_mode || "?"} from ${data.boot_interface || "?"}` : "—"],
  ];
  return h("section", { id: "inventory", "aria-labelledby": "inventory-title" },
    h("h3", { id: "inventory-title", text: "Inventory" }),
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
    table("Disks", ["Device", "Model", "Size", "Type", "Serial", ""], disks, "disks"),
    table("Network interfaces", ["Name", "MAC", "IPv4", "Speed", "LLDP switch", "Switch port"], nics, "nics"));
}

async function historySection(uuid) {
  const section = h("section", { id: "history", "aria-labelledby": "history-title" },
    h("h3", { id: "history-title", text: "History" }));
  try {
    const doc = await api("GET", `/v1/introspection/${uuid}/history`);
    const rows = doc.history.map((r) => [fmtTime(r.started_at), fmtTime(r.finished_at),
      stateBadge(r.state), r.error || ""]);
    section.append(rows.length
      ? table("Past introspections, newest first", ["Started", "Finished", "State", "Error"], rows, "history-table")
      : h("p", { text: "No past introspection is kept." }));
    if (doc.history.length >= 2) {
      const diff = await api("GET", `/v1/introspection/${uuid}/diff`);
      const show = (v) => (v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v));
      const changes = diff.changes.map((c) => [c.component, c.change, [c.id, c.field].filter(Boolean).join(" "),
        show(c.old), show(c.new)]);
      section.append(h("h4", { text: "Hardware changes since the previous introspection" }),
        changes.length
          ? table("Hardware diff", ["Component", "Change", "Item", "Before", "After"], changes, "diff-table")
          : h("p", { id: "no-changes", text: "No hardware change." }));
    }
  } catch (e) {
    section.append(h("p", { class: "muted", text: `History unavailable: ${e.message}` }));
  }
  return section;
}

function nodeView(uuid) {
  const status = h("dl", { class: "facts", id: "status" });
  const details = h("div", { id: "details" });
  let lastState = null;
  const load = async () => {
    try {
      const s = await api("GET", `/v1/introspection/${uuid}`);
      status.replaceChildren(
        h("dt", { text: "State" }), h("dd", {}, stateBadge(s.state)),
        h("dt", { text: "Started" }), h("dd", { text: fmtTime(s.started_at) }),
        h("dt", { text: "Finished" }), h("dd", { text: fmtTime(s.finished_at) }),
        h("dt", { text: "Error" }), h("dd", { text: s.error || "—" }));
      const key = `${s.state} ${s.finished_at}`;
      if (key !== lastState) {
        lastState = key;
        await loadDetails();
      }
    } catch (e) {
      status.replaceChildren(h("dt", { text: "Status" }), h("dd", { class: "error", text: e.message }));
    }
  };
  const loadDetails = async () => {
    const parts = [];
    try {
      parts.push(inventorySection(await api("GET", `/v1/introspection/${uuid}/data`)));
    } catch (e) {
      parts.push(h("section", { id: "inventory" }, h("h3", { text: "Inventory" }),
        h("p", { class: "muted", text: `No stored data: ${e.message}` })));
    }
    parts.push(await historySection(uuid));
    details.replaceChildren(...parts);
  };
  const manageBoot = h("input", { type: "checkbox", id: "manage-boot", checked: true });
  const actions = [
    actionButton("start", "Start introspection", "start", () => act("Start",
      () => api("POST", `/v1/introspection/${uuid}${manageBoot.checked ? "" : "?manage_boot=false"}`), load)),
    actionButton("abort", "Abort", "abort", () => act("Abort",
      () => api("POST", `/v1/introspection/${uuid}/abort`), load)),
    actionButton("reapply", "Reapply processing", "reapply", () => act("Reapply",
      () => api("POST", `/v1/introspection/${uuid}/data/unprocessed`), load)),
  ].filter(Boolean);
  show(
    h("p", {}, h("a", { href: "#/", text: "← All introspections" })),
    h("h2", {}, "Node ", h("span", { class: "mono", text: uuid })),
    h("div", { class: "toolbar" }, liveRefresh(load)),
    status,
    actions.length ? h("div", { class: "actions", role: "group", "aria-label": "Actions" },
      session.actions.start ? h("label", { for: "manage-boot", class: "inline" }, manageBoot, " Manage boot") : null,
      actions) : null,
    details);
  load();
}

// ---- rules ----------------------------------------------------------------

function rulesView() {
  const list = h("div", { id: "rules" });
  const result = h("div", { id: "dry-run-result", "aria-live": "polite" });
  const node = h("input", { id: "dry-run-node", name: "node", required: true, autocomplete: "off" });
  const form = h("form", { id: "dry-run", class: "inline-form" },
    h("label", { for: "dry-run-node" }, "Node UUID or name"), node,
    h("button", { type: "submit" }, "Dry run the rules"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    result.replaceChildren(h("p", { text: "Evaluating…" }));
    try {
      const report = await api("POST", "/v1/rules/evaluate", { node_id: node.value.trim() });
      result.replaceChildren(dryRunReport(report));
    } catch (e) {
      result.replaceChildren(h("p", { class: "error", role: "alert", text: e.message }));
    }
  });
  (async () => {
    try {
      const doc = await api("GET", "/v1/rules");
      list.replaceChildren(doc.rules.length
        ? table("Rules, in the order they run", ["Description", "UUID"],
          doc.rules.map((r) => [r.description || "", h("span", { class: "mono", text: r.uuid })]), "rules-table")
        : h("p", { text: "No rules." }));
    } catch (e) {
      list.replaceChildren(h("p", { class: "error", role: "alert", text: e.message }));
    }
  })();
  show(h("h2", { text: "Introspection rules" }), list,
    h("h3", { text: "Dry run" }),
    h("p", { class: "muted", text: "Evaluates every rule against a node's latest stored data; changes nothing." }),
    session.actions.evaluate ? form : h("p", { text: "Policy does not allow you to evaluate rules." }),
    result);
}

// What an action would do: its JSON patches as "op path = value".
function effectText(effect) {
  if (!effect || !Array.isArray(effect.patch)) return JSON.stringify(effect);
  return effect.patch.map((p) => `${p.op} ${p.path}${p.value === undefined ? "" : ` = ${JSON.stringify(p.value)}`}`).join("; ");
}

function dryRunReport(report) {
  const items = report.rules.map((r) => h("li", { class: r.matched ? "matched" : "unmatched" },
    h("strong", { text: r.description || r.uuid }), " — ",
    h("span", { class: "verdict", text: r.matched ? "matches" : r.scope_applies === false ? "out of scope" : "does not match" }),
    h("ul", {},
      r.conditions.map((c) => h("li", { text: `${c.invert ? "not " : ""}${c.op} ${c.field}: ${c.result ? "true" : "false"}` })),
      r.matched ? r.actions.map((a) => h("li", {
        text: `${a.action}: ${Array.isArray(a.effects) ? a.effects.map(effectText).join("; ") : JSON.stringify(a.effects)}`,
      })) : []),
    r.error ? h("p", { class: "error", text: r.error }) : null));
  return h("div", {},
    h("p", {}, "Node ", h("span", { class: "mono", text: report.node_id || "—" })),
    report.error ? h("p", { class: "error", role: "alert", text: report.error }) : null,
    items.length ? h("ol", { class: "report" }, items) : h("p", { text: "No rules to evaluate." }));
}

// ---- start-up ----------------------------------------------------------------

function route() {
  stopRefresh();
  notify("");
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  for (const link of document.querySelectorAll("nav a")) link.removeAttribute("aria-current");
  if (path.startsWith("/node/")) {
    nodeView(decodeURIComponent(path.slice("/node/".length)));
  } else if (path === "/rules") {
    document.getElementById("nav-rules").setAttribute("aria-current", "page");
    rulesView();
  } else {
    document.getElementById("nav-introspections").setAttribute("aria-current", "page");
    listView(params);
  }
}

async function start() {
  try {
    session = await api("GET", "/dashboard/session");
  } catch (e) {
    show(h("p", { class: "error", role: "alert", text: `Cannot open the dashboard: ${e.message}` }));
    return;
  }
  if (session.user) document.getElementById("user").textContent = session.user;
  if (session.auth_strategy === "keystone") {
    const logout = document.getElementById("logout");
    logout.hidden = false;
    logout.addEventListener("click", async () => {
      try {
        await api("POST", "/dashboard/logout");
        location.assign("/dashboard/login");
      } catch (e) {
        notify(`Log out failed: ${e.message}`, "error");
      }
    });
  }
  window.addEventListener("hashchange", route);
  route();
}

start();
