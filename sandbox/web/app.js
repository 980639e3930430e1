// expensebot sandbox: a small Slack-like client. Everything shown is drawn from the Block Kit the
// bot sent to the fake Slack; every click and submit goes back as a real Slack payload.
"use strict";

// files: the files picked in the open modal's file inputs (action_id → [{id, name}]), uploaded to
// the fake Slack as Slack uploads them on picking; typed: what was typed before the app answered
// with field errors, put back as Slack keeps it; modalFor: the view these belong to.
const state = { user: "", view: "CGENERAL", data: null, modalErrors: {}, files: {}, typed: {}, modalFor: "", samples: [], uploading: 0 };
const $ = (id) => document.getElementById(id);

const EMOJI = {
  white_check_mark: "✅", x: "❌", eyes: "👀", robot_face: "🤖", warning: "⚠️", page_facing_up: "📄",
  inbox_tray: "📥", speech_balloon: "💬", no_entry: "⛔", information_source: "ℹ️", busts_in_silhouette: "👥",
  "+1": "👍", hourglass_flowing_sand: "⏳", tada: "🎉", hourglass: "⌛", question: "❓", alarm_clock: "⏰",
  arrow_double_up: "⏫", leftwards_arrow_with_hook: "↩️", arrow_right: "➡️", palm_tree: "🌴",
};

function esc(s) {
  return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
// Slack escapes exactly & < > in text; undo that, then escape for HTML.
function unslack(s) { return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"); }

function name(id) { return (state.data && state.data.names[id]) || id; }

// formatText renders Slack's inline formatting in already-escaped HTML.
function formatText(html) {
  return html
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>")
    .replace(/(^|[\s(])~([^~\n]+)~/g, "$1<s>$2</s>")
    .replace(/:([a-z0-9_+\-]+):/g, (m, c) => EMOJI[c] || m);
}

// control renders one of Slack's <…> sequences.
function control(inner) {
  const [target, label] = inner.split("|", 2);
  if (target.startsWith("@")) return `<span class="mention">@${esc(name(target.slice(1)))}</span>`;
  if (target.startsWith("#")) return `<span class="mention">#${esc(label || target.slice(1))}</span>`;
  if (target.startsWith("!date^")) {
    const ts = Number(target.split("^")[1]);
    return esc(isFinite(ts) ? new Date(ts * 1000).toLocaleString() : (label || ""));
  }
  if (target.startsWith("!subteam^")) return `<span class="mention">@${esc((label || target.slice(9)).replace(/^@/, ""))}</span>`;
  if (target.startsWith("!")) return `<span class="mention loud">@${esc(target.slice(1).split("^")[0])}</span>`;
  if (/^https?:\/\//.test(target)) return `<a href="${esc(target)}" target="_blank" rel="noopener">${esc(unslack(label || target))}</a>`;
  return esc("<" + inner + ">");
}

// mrkdwn turns Slack mrkdwn into safe HTML.
function mrkdwn(text) {
  return String(text).split("\n").map((line) => {
    let quote = false;
    if (line.startsWith("> ") || line === ">") { quote = true; line = line.slice(2); }
    let out = "", last = 0;
    const re = /<([^<>]*)>/g;
    let m;
    while ((m = re.exec(line))) {
      out += formatText(esc(unslack(line.slice(last, m.index))));
      out += control(m[1]);
      last = re.lastIndex;
    }
    out += formatText(esc(unslack(line.slice(last))));
    return quote ? `<blockquote>${out}</blockquote>` : out;
  }).join("<br>").replace(/<\/blockquote><br><blockquote>/g, "<br>");
}

function textObj(t) {
  if (!t) return "";
  if (t.type === "mrkdwn") return mrkdwn(t.text);
  // plain_text shows emoji codes as emoji only when the object asks for it.
  return t.emoji === false ? esc(t.text) : esc(t.text).replace(/:([a-z0-9_+\-]+):/g, (m, c) => EMOJI[c] || m);
}

function unknown(kind, type) { return `<span class="unknown" data-test="unknown">[${esc(kind)} not shown here: ${esc(type)}]</span>`; }

// element renders an interactive element; ctx says where a click goes.
function element(el, ctx) {
  switch (el.type) {
    case "button":
      // A confirm object asks first, as Slack's dialog does.
      const confirm = el.confirm ? ` data-confirm="${esc((el.confirm.title || {}).text || "")}\n\n${esc((el.confirm.text || {}).text || "")}"` : "";
      return `<button class="bk ${esc(el.style || "")}" data-action-id="${esc(el.action_id)}"${confirm} ${ctx.where}>${textObj(el.text)}</button>`;
    case "image":
      return `<img src="${esc(el.image_url)}" alt="${esc(el.alt_text || "")}" width="24" height="24">`;
    case "mrkdwn": case "plain_text":
      return textObj(el);
    default:
      return unknown("element", el.type);
  }
}

// input renders an input block inside a modal.
function input(b) {
  const el = b.element || {};
  const id = esc(el.action_id || "");
  const err = state.modalErrors[b.block_id];
  let control;
  switch (el.type) {
    case "plain_text_input": {
      const ph = el.placeholder ? esc(el.placeholder.text) : "";
      const val = esc(typed(el, el.initial_value));
      control = el.multiline
        ? `<textarea name="${id}" rows="3" placeholder="${ph}" maxlength="${el.max_length || 3000}">${val}</textarea>`
        : `<input type="text" name="${id}" placeholder="${ph}" value="${val}" maxlength="${el.max_length || 3000}">`;
      break;
    }
    case "static_select": {
      const init = typed(el, el.initial_option ? el.initial_option.value : "");
      const opts = (el.options || []).map((o) => `<option value="${esc(o.value)}" ${o.value === init ? "selected" : ""}>${esc(o.text.text)}</option>`).join("");
      control = `<select name="${id}"><option value="">${el.placeholder ? esc(el.placeholder.text) : "Choose…"}</option>${opts}</select>`;
      break;
    }
    case "datepicker":
      control = `<input type="date" name="${id}" value="${esc(typed(el, el.initial_date))}">`;
      break;
    case "users_select": {
      // The workspace's people, as Slack's people picker offers them.
      const init = typed(el, el.initial_user);
      const opts = Object.entries(state.data.names).filter(([uid]) => uid !== "UBOT")
        .map(([uid, n]) => `<option value="${esc(uid)}" ${uid === init ? "selected" : ""}>${esc(n)}</option>`).join("");
      control = `<select name="${id}"><option value="">${el.placeholder ? esc(el.placeholder.text) : "Choose a person…"}</option>${opts}</select>`;
      break;
    }
    case "file_input": {
      // Picking a file uploads it at once, as Slack does; the submit carries the file ids.
      const accept = (el.filetypes || []).map((t) => "." + t).join(",");
      const samples = state.samples.map((x) => `<button type="button" class="bk sample" data-sample="${esc(x.name)}" data-for="${id}" title="${esc(x.note)}">` +
        `<img src="/samples/${encodeURIComponent(x.name)}" alt="">${esc(x.name)}</button>`).join("");
      control = `<div class="file-input" data-name="${id}" data-max="${el.max_files || 10}">` +
        `<input type="file" data-upload="${id}" data-test="file-picker" ${accept ? `accept="${esc(accept)}"` : ""} ${(el.max_files || 10) > 1 ? "multiple" : ""}>` +
        (samples ? `<div class="samples">Or a sample receipt: ${samples}</div>` : "") +
        `<ul class="chosen" id="chosen-${id}">${chosen(el.action_id || "")}</ul></div>`;
      break;
    }
    default:
      control = unknown("input", el.type);
  }
  return `<label class="in">${textObj(b.label)}${b.optional ? ' <span class="opt">(optional)</span>' : ""}</label>${control}` +
    (b.hint ? `<div class="hint">${textObj(b.hint)}</div>` : "") +
    (err ? `<div class="err" data-test="field-error">${esc(err)}</div>` : "");
}

// typed is what the person typed into el before the app answered with errors, else fallback.
function typed(el, fallback) {
  const v = state.typed[el.action_id];
  return v !== undefined ? v : (fallback || "");
}

// chosen lists the files picked for a file input.
function chosen(aid) {
  return (state.files[aid] || []).map((f, i) => `<li data-test="chosen-file">📎 ${esc(f.name)} ` +
    `<button type="button" class="link" data-unfile="${esc(aid)}" data-index="${i}">remove</button></li>`).join("");
}

function showChosen(aid) {
  const ul = document.getElementById("chosen-" + aid);
  if (ul) ul.innerHTML = chosen(aid);
}

function addFile(aid, out) {
  if (!out || !out.id) return;
  const box = document.querySelector(`.file-input[data-name="${CSS.escape(aid)}"]`);
  const max = box ? Number(box.dataset.max) : 10;
  const list = state.files[aid] || (state.files[aid] = []);
  if (list.length >= max) { flash(`At most ${max} files here.`); return; }
  list.push({ id: out.id, name: out.name });
  showChosen(aid);
}

// filesHTML shows the files a message carries, linked where Slack serves them.
function filesHTML(files) {
  return (files || []).map((f) => `<div class="file" data-test="message-file">📎 <a href="${esc(f.url_private)}" target="_blank" rel="noopener">${esc(f.name)}</a></div>`).join("");
}

// blocks renders a list of blocks.
function blocks(list, ctx) {
  return (list || []).map((b) => {
    switch (b.type) {
      case "section": {
        let h = b.text ? `<div>${textObj(b.text)}</div>` : "";
        if (b.fields) h += `<div class="fields">${b.fields.map((f) => `<div>${textObj(f)}</div>`).join("")}</div>`;
        if (b.accessory) h += `<div>${element(b.accessory, ctx)}</div>`;
        return `<div class="block section">${h}</div>`;
      }
      case "header": return `<div class="block header">${textObj(b.text)}</div>`;
      case "divider": return `<div class="block divider"></div>`;
      // Slack sets a context block's elements apart; a wide gap does here.
      case "context": return `<div class="block context">${(b.elements || []).map((e) => `<span class="ctx-el">${element(e, ctx)}</span>`).join("")}</div>`;
      case "actions": return `<div class="block actions">${(b.elements || []).map((e) => element(e, ctx)).join("")}</div>`;
      case "input": return `<div class="block input">${input(b)}</div>`;
      case "image": return `<div class="block"><img src="${esc(b.image_url)}" alt="${esc(b.alt_text || "")}" style="max-width:100%"></div>`;
      default: return `<div class="block">${unknown("block", b.type)}</div>`;
    }
  }).join("");
}

function messageHTML(m, channel) {
  const who = m.user === "UBOT" ? "expensebot" : name(m.user);
  const initials = who.slice(0, 1).toUpperCase();
  let body = m.blocks && m.blocks.length ? blocks(m.blocks, { where: `data-channel="${esc(channel)}" data-ts="${esc(m.ts)}"` }) : mrkdwn(m.text);
  if (m.files && m.files.length) body = filesHTML(m.files);
  if (m.reactions && m.reactions.length) body += `<div class="reactions" data-test="reactions">${m.reactions.map((r) => r === "eyes" ? "👀" : ":" + esc(r) + ":").join(" ")}</div>`;
  const when = new Date(Number(m.ts) * 1000).toLocaleTimeString();
  return `<div class="msg ${m.ephemeral_to ? "ephemeral" : ""}" data-ts="${esc(m.ts)}">` +
    `<div class="avatar ${m.user === "UBOT" ? "" : "person"}">${esc(initials)}</div><div class="body">` +
    `<div class="meta"><b>${esc(who)}</b>${esc(when)}${m.ephemeral_to ? " · Only visible to you" : ""}${m.edited ? ' <span class="edited">(edited)</span>' : ""}</div>` +
    `${body}</div></div>`;
}

function renderSidebar() {
  const d = state.data;
  const link = (id, label) => `<a data-view="${esc(id)}" class="${state.view === id ? "active" : ""}">${label}</a>`;
  let h = `<h3>Apps</h3>${link("home", "🏠 expensebot · Home")}<h3>Channels</h3>`;
  for (const c of d.channels.filter((c) => !c.dm)) h += link(c.id, "# " + esc(c.name));
  h += `<h3>Direct messages</h3>`;
  for (const c of d.channels.filter((c) => c.dm)) h += link(c.id, "💬 " + esc(c.name));
  $("sidebar").innerHTML = h;
}

function renderPane() {
  const d = state.data;
  if (state.view === "home") {
    $("pane-head").textContent = "expensebot · Home";
    $("composer").hidden = true;
    $("messages").innerHTML = d.home
      ? `<div class="home" data-test="home">${blocks(d.home.view.blocks, { where: `data-view-id="${esc(d.home.id)}"` })}</div>`
      : `<div class="empty">Opening the App Home…</div>`;
    return;
  }
  const c = d.channels.find((c) => c.id === state.view) || d.channels[0];
  $("pane-head").textContent = c.dm ? "expensebot (direct message)" : "# " + c.name;
  $("composer").hidden = false;
  $("dm-drop").hidden = !c.dm;
  if (c.dm && !$("dm-samples").dataset.filled) {
    $("dm-samples").dataset.filled = "1";
    $("dm-samples").innerHTML = state.samples.length ? "or a sample: " + state.samples.map((x) =>
      `<button type="button" class="bk sample" data-dm-sample="${esc(x.name)}" data-test="dm-sample" title="${esc(x.note)}">` +
      `<img src="/samples/${encodeURIComponent(x.name)}" alt="">${esc(x.name)}</button>`).join(" ") : "";
  }
  const top = c.messages.filter((m) => !m.thread_ts);
  const html = top.map((m) => {
    const replies = c.messages.filter((r) => r.thread_ts === m.ts);
    return messageHTML(m, c.id) + (replies.length ? `<div class="thread">${replies.map((r) => messageHTML(r, c.id)).join("")}</div>` : "");
  }).join("");
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.innerHTML = html || `<div class="empty">No messages yet. Try <code>/expense 42.50 Team lunch</code>.</div>`;
  if (atBottom) box.scrollTop = box.scrollHeight;
}

function renderModal() {
  const m = state.data.modal;
  if (!m) { $("modal-back").hidden = true; state.modalErrors = {}; state.files = {}; state.typed = {}; state.modalFor = ""; return; }
  if (state.modalFor !== m.id) { state.files = {}; state.typed = {}; state.modalFor = m.id; }
  const v = m.view;
  const keep = $("modal").dataset.viewId === m.id + m.hash;
  if (keep && !$("modal-back").hidden) return; // do not wipe what the person is typing
  $("modal").dataset.viewId = m.id + m.hash;
  $("modal").innerHTML = `<div class="m-head">${textObj(v.title)}</div>` +
    `<form id="modal-form" class="m-body">${blocks(v.blocks, { where: `data-view-id="${esc(m.id)}"` })}</form>` +
    `<div class="m-foot"><button class="bk" data-test="modal-close" id="modal-close">${v.close ? textObj(v.close) : "Close"}</button>` +
    (v.submit ? `<button class="bk primary" data-test="modal-submit" id="modal-submit">${textObj(v.submit)}</button>` : "") + `</div>`;
  $("modal-back").hidden = false;
}

function render() {
  if (!state.data) return;
  const ops = state.data.ops;
  $("ops").innerHTML = ops ? `<a href="${esc(ops)}/healthz" target="_blank" data-test="healthz">health</a> · <a href="${esc(ops)}/metrics" target="_blank" data-test="metrics">metrics</a>` : "";
  renderSidebar();
  renderPane();
  renderModal();
}

async function api(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user: state.user, ...body }) });
  const out = await r.json().catch(() => ({}));
  flash(out.error || out.hint || "");
  return out;
}

function flash(text) { $("flash").textContent = text; }

let pending = null;
async function refresh() {
  if (pending) return pending;
  pending = (async () => {
    try {
      const r = await fetch("/api/state?user=" + encodeURIComponent(state.user));
      if (r.ok) { state.data = await r.json(); render(); }
    } finally { pending = null; }
  })();
  return pending;
}

function choose(view) {
  state.view = view;
  location.hash = `user=${state.user}&view=${view}`;
  if (view === "home") api("/api/home", {}).then(refresh);
  render();
}

document.addEventListener("click", async (ev) => {
  const nav = ev.target.closest("[data-view]");
  if (nav) { choose(nav.dataset.view); return; }
  const btn = ev.target.closest("button[data-action-id]");
  if (btn) {
    if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
    btn.disabled = true;
    const body = { action_id: btn.dataset.actionId };
    if (btn.dataset.viewId) body.view_id = btn.dataset.viewId; else { body.channel = btn.dataset.channel; body.ts = btn.dataset.ts; }
    await api("/api/click", body);
    btn.disabled = false;
    refresh();
    return;
  }
  const sample = ev.target.closest("button[data-sample]");
  if (sample) {
    sample.disabled = true;
    state.uploading++;
    try { addFile(sample.dataset.for, await api("/api/sample", { text: sample.dataset.sample })); } finally { state.uploading--; }
    sample.disabled = false;
    return;
  }
  const unfile = ev.target.closest("button[data-unfile]");
  if (unfile) {
    (state.files[unfile.dataset.unfile] || []).splice(Number(unfile.dataset.index), 1);
    showChosen(unfile.dataset.unfile);
    return;
  }
  if (ev.target.id === "modal-close") { await api("/api/close", {}); state.modalErrors = {}; refresh(); return; }
  if (ev.target.id === "modal-submit") {
    // Slack holds the submit until the picked files are uploaded.
    if (state.uploading) { flash("Still uploading the file…"); return; }
    const values = {};
    for (const f of $("modal-form").querySelectorAll("[name]")) values[f.name] = f.value;
    const typedNow = { ...values };
    for (const box of $("modal-form").querySelectorAll(".file-input")) {
      values[box.dataset.name] = (state.files[box.dataset.name] || []).map((f) => f.id).join(",");
    }
    const out = await api("/api/submit", { values });
    state.modalErrors = out.errors || {};
    // Slack keeps what was typed when the app answers with field errors; so does the page.
    state.typed = Object.keys(state.modalErrors).length ? typedNow : {};
    $("modal").dataset.viewId = "";
    refresh();
  }
});

// Picking files uploads each to the fake Slack as the person, as Slack's file input does.
document.addEventListener("change", async (ev) => {
  const picker = ev.target.closest("input[data-upload]");
  if (!picker) return;
  state.uploading++;
  try {
    for (const file of picker.files) {
      const r = await fetch(`/api/upload?user=${encodeURIComponent(state.user)}&name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
      const out = await r.json().catch(() => ({}));
      flash(out.error || "");
      addFile(picker.dataset.upload, out);
    }
  } finally { state.uploading--; }
  picker.value = "";
});

// Files dropped or attached in the DM: each is uploaded as the person, then posted in the DM in
// one message, as Slack does; the bot answers with a draft per file.
async function postInDM(files) {
  const ids = [];
  for (const file of files) {
    const r = await fetch(`/api/upload?user=${encodeURIComponent(state.user)}&name=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
    const out = await r.json().catch(() => ({}));
    if (out.error) { flash(out.error); return; }
    ids.push(out.id);
  }
  if (ids.length) await api("/api/dm-files", { files: ids });
  refresh();
}

$("dm-file").addEventListener("change", async () => {
  await postInDM([...$("dm-file").files]);
  $("dm-file").value = "";
});

document.addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-dm-sample]");
  if (!b) return;
  b.disabled = true;
  try {
    const out = await api("/api/sample", { text: b.dataset.dmSample });
    if (out.id) await api("/api/dm-files", { files: [out.id] });
  } finally { b.disabled = false; }
  refresh();
});

for (const target of [$("messages"), $("dm-drop")]) {
  target.addEventListener("dragover", (ev) => {
    if (!$("dm-drop").hidden) { ev.preventDefault(); $("dm-drop").classList.add("over"); }
  });
  target.addEventListener("dragleave", () => $("dm-drop").classList.remove("over"));
  target.addEventListener("drop", (ev) => {
    if ($("dm-drop").hidden) return;
    ev.preventDefault();
    $("dm-drop").classList.remove("over");
    postInDM([...ev.dataTransfer.files]);
  });
}

$("composer").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = $("composer-input").value.trim();
  if (!text) return;
  $("composer-input").value = "";
  await api("/api/command", { channel: state.view, text });
  refresh();
});

$("who").addEventListener("change", () => {
  state.user = $("who").value;
  state.modalErrors = {};
  $("modal").dataset.viewId = "";
  location.hash = `user=${state.user}&view=${state.view}`;
  if (state.view === "home") api("/api/home", {});
  refresh();
});

async function start() {
  const params = new URLSearchParams(location.hash.slice(1));
  const first = await fetch("/api/state?user=" + encodeURIComponent(params.get("user") || "UALICE"));
  state.data = await first.json();
  $("who").innerHTML = state.data.people.map((p) => `<option value="${esc(p.id)}">${esc(p.name)} (${esc(p.role)})</option>`).join("");
  state.user = params.get("user") || state.data.people[0].id;
  state.view = params.get("view") || "CGENERAL";
  $("who").value = state.user;
  if (state.view === "home") api("/api/home", {});
  state.samples = await (await fetch("/api/samples")).json().catch(() => []);
  await refresh();
  const events = new EventSource("/api/events");
  events.addEventListener("changed", () => setTimeout(refresh, 30));
}
start();
