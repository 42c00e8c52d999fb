"use strict";
// The admin page: every `federation admin` capability, over the same admin API.
const API = "/admin/api";
const $ = (id) => document.getElementById(id);
let selectedHost = null;

// An error stays on screen until dismissed: the 5-second refresh only touches #status.
function showError(message) { $("error-text").textContent = message; $("error").hidden = false; }
function dismissError() { $("error").hidden = true; $("error-text").textContent = ""; }
function notice(text) { $("notice").textContent = text; }
function setStatus(text) { $("status").textContent = text; }

async function call(method, path, body) {
  const headers = { Authorization: "Bearer " + sessionStorage.getItem("adminToken") };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (resp.status === 401) { sessionStorage.removeItem("adminToken"); showLogin(); showError("Wrong token"); throw new Error("unauthorized"); }
  const data = resp.status === 204 ? null : await resp.json();
  if (!resp.ok) { const msg = data.title + (data.detail ? ": " + data.detail : ""); showError(msg); throw new Error(msg); }
  return data;
}

// Run an admin action, say what it did, then redraw; a failure is already on screen.
async function act(action, describe) {
  try { const result = await action(); if (describe) notice(describe(result)); await refresh(); return true; } catch (e) { return false; }
}

function when(seconds) { return seconds ? new Date(seconds * 1000).toLocaleString() : "-"; }

// An age as `federation admin hosts list` shows it: 42s, 17m, 5h, 3d ("-": none).
function age(seconds) {
  if (seconds === null || seconds === undefined) return "-";
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["m", 60]]) if (seconds >= size) return `${Math.round(seconds / size)}${unit}`;
  return `${Math.round(seconds)}s`;
}

function cell(row, content, cls) {
  const td = row.insertCell();
  if (cls) td.className = cls;
  if (content instanceof Node) td.appendChild(content); else td.textContent = content;
}

function badge(state) {
  const span = document.createElement("span");
  span.className = "state " + state;
  span.textContent = state;
  return span;
}

function button(label, cls, onClick) {
  const b = document.createElement("button");
  b.textContent = label;
  b.className = cls;
  b.addEventListener("click", async () => { b.disabled = true; if (!(await onClick())) b.disabled = false; });
  return b;
}

function fill(table, headings, rows, render) {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  headings.forEach((h) => { const th = document.createElement("th"); th.textContent = h; head.appendChild(th); });
  const tbody = table.createTBody();
  if (rows.length === 0) { const td = tbody.insertRow().insertCell(); td.colSpan = headings.length; td.className = "empty"; td.textContent = "none"; }
  rows.forEach((item) => render(tbody.insertRow(), item));
}

function followerActions(f) {
  const box = document.createElement("span");
  if (f.state === "pending") {
    box.append(button("Approve", "", () => act(() => call("POST", "/followers/approve", { actor: f.actor }))), " ",
               button("Reject", "danger", () => act(() => call("POST", "/followers/reject", { actor: f.actor }))));
  } else if (f.state === "accepted") {
    box.append(button("Remove", "danger", () => act(() => call("POST", "/followers/remove", { actor: f.actor }))));
  }
  return box;
}

function hostActions(h) {
  const box = document.createElement("span");
  box.append(button("Queue", "quiet", async () => { selectedHost = h.host; await refresh(); return false; }));
  if (h.queued) box.append(" ", button("Retry now", "", () => act(() => call("POST", "/queue/retry-now", { host: h.host }), (r) => `${h.host}: ${r.count} queued jobs due now`)));
  if (h.paused) box.append(" ", button("Resume", "", () => act(() => call("POST", "/hosts/resume", { host: h.host }), (r) => `${h.host}: delivery resumed, ${r.count} jobs waiting to go`)));
  else box.append(" ", button("Pause", "danger", () => act(() => call("POST", "/hosts/pause", { host: h.host }), () => `${h.host}: delivery paused`)));
  if (h.unavailable || h.breaker !== "closed" || h.consecutive_failures) box.append(" ", button("Reset", "quiet", () => act(() => call("POST", "/hosts/reset", { host: h.host }), () => `${h.host}: available again`)));
  return box;
}

// Paused and blocked, the words of `federation admin hosts list`; empty when delivery runs.
function deliveryState(h) {
  const box = document.createElement("span");
  if (h.paused) box.append(badge("paused"));
  if (h.blocked) box.append(" ", badge("blocked"));
  return box;
}

function drawHosts(hosts) {
  fill($("hosts"), ["Host", "Followers", "Following", "24 h ok / failed", "7 d ok / failed", "Success, 24 h", "Breaker", "Delivery", "Failures in a row", "Last success", "Last failure", "Last error", "Unavailable since", "Signature", "Queued", "Oldest owed", "Next attempt", ""], hosts, (r, h) => {
    r.dataset.host = h.host;
    cell(r, h.host); cell(r, String(h.followers), "num"); cell(r, String(h.following), "num");
    cell(r, `${h.delivered_24h} / ${h.failed_24h}`, "num"); cell(r, `${h.delivered_7d} / ${h.failed_7d}`, "num");
    cell(r, sparkline(h.hourly)); cell(r, badge(h.breaker)); cell(r, deliveryState(h)); cell(r, String(h.consecutive_failures), "num");
    cell(r, when(h.last_success_at)); cell(r, when(h.last_failure_at)); cell(r, h.last_error || "", "error");
    cell(r, h.unavailable_since || (h.unavailable ? "yes" : "")); cell(r, h.signature_scheme || "-");
    cell(r, String(h.queued), "num"); cell(r, age(h.oldest_due_age), "num age"); cell(r, when(h.next_attempt_at)); cell(r, hostActions(h));
  });
}

async function drawHostQueue() {
  $("host-queue-name").textContent = selectedHost || "(pick a host above)";
  if (!selectedHost) { $("host-queue").replaceChildren(); return; }
  const host = selectedHost;
  const jobs = await call("GET", "/queue/jobs?host=" + encodeURIComponent(host));
  fill($("host-queue"), ["Job", "Kind", "Attempts", "Next attempt", "Last error", ""], jobs.items, (r, j) => {
    r.dataset.job = j.id;
    cell(r, j.id); cell(r, j.kind); cell(r, String(j.attempts), "num"); cell(r, when(j.next_attempt_at)); cell(r, j.last_error || "", "error");
    cell(r, button("Retry now", "quiet", () => act(() => call("POST", "/queue/retry-now", { host, job_id: j.id }), (res) => `job ${j.id}: ${res.count ? "due now" : "already running or gone"}`)));
  });
}

// The words of `federation admin subscriptions list` and `refresh`.
function fetchText(f) { return `${f.status}: ${f.listed} listed, +${f.added} -${f.removed}` + (f.error ? ` (${f.error})` : ""); }

function drawSubscriptions(items) {
  fill($("subscriptions"), ["Title", "URL", "Entries", "Last fetch", "Status", "Next fetch", ""], items, (r, s) => {
    r.dataset.subscription = s.id;
    cell(r, s.title); cell(r, s.url); cell(r, String(s.listed), "num"); cell(r, when(s.last && s.last.at));
    cell(r, s.last ? fetchText(s.last) : "not fetched yet", "error"); cell(r, s.next_fetch_at ? when(s.next_fetch_at) : "due now");
    const box = document.createElement("span");
    box.append(button("Refresh", "quiet", () => act(() => call("POST", `/subscriptions/${s.id}/refresh`), (f) => `${s.title}: ${fetchText(f)}`)), " ",
               button("Unsubscribe", "danger", () => act(() => call("DELETE", `/subscriptions/${s.id}`), (d) => `unsubscribed: ${d.removed.length} entries retracted`)));
    cell(r, box);
  });
}

async function refresh() {
  const [following, followers, blocks, queue, dead, hosts, charts, subscriptions] = await Promise.all([
    call("GET", "/following"), call("GET", "/followers"), call("GET", "/blocks"),
    call("GET", "/queue"), call("GET", "/queue/dead"), call("GET", "/hosts"), call("GET", "/charts"),
    call("GET", "/subscriptions"),
  ]);
  drawSubscriptions(subscriptions.items);
  deliveriesChart($("deliveries-chart"), charts.deliveries);
  depthChart($("depth-chart"), charts.queue_depth);
  drawHosts(hosts.items);
  await drawHostQueue();
  fill($("following"), ["Actor", "State", ""], following.items, (r, f) => {
    r.dataset.actor = f.actor; cell(r, f.actor); cell(r, badge(f.state));
    cell(r, f.state === "undone" ? "" : button("Unfollow", "quiet", () => act(() => call("POST", "/following/unfollow", { actor: f.actor }))));
  });
  fill($("followers"), ["Actor", "State", ""], followers.items, (r, f) => {
    r.dataset.actor = f.actor; cell(r, f.actor); cell(r, badge(f.state)); cell(r, followerActions(f));
  });
  fill($("blocks"), ["Domain", "Severity", "By admin", "Reason", ""], blocks.items, (r, b) => {
    r.dataset.domain = b.domain; cell(r, b.domain); cell(r, badge(b.severity)); cell(r, b.by_admin ? "yes" : "no: subscribed"); cell(r, b.reason);
    cell(r, button("Unblock", "quiet", () => act(() => call("DELETE", "/blocks/" + encodeURIComponent(b.domain)))));
  });
  fill($("queue"), ["State", "Host", "Jobs"], queue.counts, (r, c) => {
    cell(r, badge(c.state)); cell(r, c.host || "(local)"); cell(r, String(c.count), "num");
  });
  fill($("dead"), ["Host", "Kind", "Last error", ""], dead.items, (r, j) => {
    cell(r, j.host || "(local)"); cell(r, j.kind); cell(r, j.last_error || "");
    cell(r, button("Retry", "quiet", () => act(() => call("POST", "/queue/retry", { job_id: j.id }))));
  });
  setStatus("updated " + new Date().toLocaleTimeString());
}

async function loadSettings() {
  // Only on opening and after saving: a refresh must not overwrite what the admin is typing.
  const [mode, allowlist] = await Promise.all([call("GET", "/mode"), call("GET", "/allowlist")]);
  $("mode").value = mode.mode;
  $("allowlist").value = allowlist.domains.join("\n");
}

function showLogin() { $("panels").hidden = true; $("logout").hidden = true; $("login").hidden = false; }

function showPanels() {
  $("login").hidden = true; $("panels").hidden = false; $("logout").hidden = false;
  Promise.all([refresh(), loadSettings()]).catch(() => {});
}

function onSubmit(id, handler) {
  $(id).addEventListener("submit", async (e) => { e.preventDefault(); await handler(e.target); });
}

$("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  sessionStorage.setItem("adminToken", $("token").value);
  $("token").value = "";
  dismissError();
  showPanels();
});
$("logout").addEventListener("click", () => { sessionStorage.removeItem("adminToken"); showLogin(); });
$("error-dismiss").addEventListener("click", dismissError);
onSubmit("follow-form", async (f) => { if (await act(() => call("POST", "/following", { target: f.elements["target"].value }), (r) => `${r.actor}: ${r.state}`)) f.reset(); });
onSubmit("block-form", async (f) => { if (await act(() => call("POST", "/blocks", { domain: f.elements["domain"].value, reason: f.elements["reason"].value, severity: f.elements["severity"].value }), (r) => `${r.block.severity} ${r.block.domain}`)) f.reset(); });

// The words of `federation admin blocks import`: the same diff, line numbers included.
function diffText(d) {
  const entry = (b) => `${b.domain}  ${b.severity}` + (b.reason ? `  (${b.reason})` : "");
  const lines = [`${d.format} list: ${d.applied ? "applied" : "dry run, nothing applied (Apply applies it)"}`];
  const section = (name, items, line) => { lines.push(`${name}: ${items.length}`); items.forEach((i) => lines.push("  " + line(i))); };
  section("added", d.added, (b) => "+ " + entry(b));
  section("changed", d.changed, (c) => `~ ${c.domain}  ${c.before.severity} -> ${c.after.severity}` + (c.before.by_admin ? "" : "  (taken over from a subscription)"));
  section("removed", d.removed, (b) => "- " + entry(b));
  lines.push(`kept: ${d.kept.length}`);
  section("invalid", d.invalid, (u) => `line ${u.line}: ${u.reason}`);
  section("skipped", d.skipped, (u) => `line ${u.line}: ${u.reason}`);
  return lines.join("\n");
}

async function importList(apply) {
  const body = { text: $("import-text").value, replace: $("import-replace").checked, apply: false };
  try {
    const planned = await call("POST", "/blocks/import", body);
    $("import-diff").textContent = diffText(planned);
    if (!apply || planned.invalid.length) { if (apply) showError(`${planned.invalid.length} invalid lines: nothing applied`); return; }
    await act(async () => { const done = await call("POST", "/blocks/import", { ...body, apply: true }); $("import-diff").textContent = diffText(done); return done; },
      (d) => `blocklist applied: ${d.added.length} added, ${d.changed.length} changed, ${d.removed.length} removed`);
  } catch (e) { /* on screen already */ }
}
onSubmit("subscribe-form", async (f) => { if (await act(() => call("POST", "/subscriptions", { url: f.elements["url"].value, title: f.elements["title"].value }), (s) => `subscribed to ${s.url}; first fetch due now`)) f.reset(); });
$("import-preview").addEventListener("click", () => importList(false));
$("import-apply").addEventListener("click", () => importList(true));
onSubmit("export-form", async () => {
  try { const out = await call("GET", "/blocks/export?format=" + $("export-format").value); $("export-text").textContent = out.text; notice(`exported ${out.count} entries (${out.format})`); } catch (e) { /* on screen */ }
});
onSubmit("mode-form", async () => { await act(() => call("PUT", "/mode", { mode: $("mode").value }), (r) => `mode: ${r.mode}`); await loadSettings().catch(() => {}); });
onSubmit("allowlist-form", async () => {
  const domains = $("allowlist").value.split(/\s+/).filter(Boolean);
  await act(() => call("PUT", "/allowlist", { domains }), (r) => `allowlist: ${r.domains.length} domains`);
  await loadSettings().catch(() => {});
});
onSubmit("cache-show-form", async (f) => {
  try { const entry = await call("GET", "/cache?urn=" + encodeURIComponent(f.elements["urn"].value)); $("cache-entry").textContent = JSON.stringify(entry, null, 2); } catch (e) { $("cache-entry").textContent = ""; }
});
onSubmit("cache-purge-form", async (f) => {
  const urn = f.elements["urn"].value, domain = f.elements["domain"].value;
  if (await act(() => call("POST", "/cache/purge", urn ? { urn } : { domain }), (r) => `purged ${r.count} cache entries`)) f.reset();
});

if (sessionStorage.getItem("adminToken")) showPanels(); else showLogin();
setInterval(() => { if (!$("panels").hidden) refresh().catch(() => {}); }, 5000);
