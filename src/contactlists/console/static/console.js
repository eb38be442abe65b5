// The contactlists console: a small client-side app over the public API (no build step).
//
// The sign-in trades the app's client id and secret for a short-lived token, once; the secret
// is never kept. The token lives in this tab's sessionStorage (so a reload keeps the session)
// and every request sends it in the `auth` header, as any API client does. Every error the API
// answers is shown as its message.

const STORE = "contactlists.session";
const PAGE = 50;
const FIELDS = ["phoneNumber", "firstName", "lastName", "timeZone", "uniqueId", "contactPriority"];
const TRANSITIONS = {
  Ready: [["play", "Start"]],
  Active: [["pause", "Pause"], ["stop", "Stop"]],
  Paused: [["resume", "Resume"]],
  Stopped: [],
};
const FINISHED = new Set(["completed", "failed", "cancelled"]);

let session = load();
let visits = 0; // route() visits so far
const jobsSeen = new Map(); // job id -> {listId, listName, kind}; jobs started from this tab

// ------------------------------------------------------------------ small helpers

function $(selector) {
  return document.querySelector(selector);
}

// h("a", {href: "#"}, "text", child): an element; text is always text, never HTML.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function count(n) {
  return Number(n ?? 0).toLocaleString("en-US");
}

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE) || "null");
  } catch {
    return null;
  }
}

// Replaces an element's children, leaving out the absent ones (null, false).
function show(el, ...children) {
  el.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

function say(message) {
  $("#status").textContent = message;
}

function fail(message) {
  const notice = $("#notice");
  notice.textContent = message;
  notice.hidden = false;
}

function clearNotice() {
  $("#notice").hidden = true;
  $("#notice").textContent = "";
}

// ------------------------------------------------------------------ the API

class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function prefix() {
  return `/campaign/api/v2/public/${encodeURIComponent(session.bot)}/campaign`;
}

async function api(method, path, { query, json, form, accept, raw } = {}) {
  if (!session) throw new ApiError("You are signed out.", 401);
  const url = new URL(prefix() + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  // The tab's storage is the session's one place: a sign-in elsewhere in it is used at once.
  const headers = { auth: (load() || session).token };
  let body;
  if (json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  if (accept) headers.accept = accept;
  let response;
  try {
    response = await fetch(url, { method, headers, body, cache: "no-store" });
  } catch (error) {
    throw new ApiError(`The service cannot be reached (${error.message}). Nothing was lost: try again.`, 0);
  }
  if (!response.ok) {
    let envelope = null;
    let message = `The service answered ${response.status} ${response.statusText}.`;
    try {
      envelope = await response.json();
      if (envelope && envelope.message) message = envelope.message;
    } catch {
      // not JSON: keep the status line
    }
    if (response.status === 401) sessionEnded(message);
    throw new ApiError(message, response.status, envelope);
  }
  return raw ? response : response.json();
}

// Runs an action, showing its error (if any) as the API's message; returns its result or null.
async function attempt(action, where = null) {
  try {
    return await action();
  } catch (error) {
    if (!(error instanceof ApiError)) console.error(error);
    if (where) {
      where.textContent = error.message;
      where.hidden = false;
    } else {
      fail(error.message);
    }
    return null;
  }
}

// ------------------------------------------------------------------ sign-in

function showSignIn(reason) {
  $("#signin").hidden = false;
  $("#signin-reason").hidden = !reason;
  $("#signin-reason").textContent = reason || "";
  if (session) $("#bot").value = session.bot;
  $("#client-id").focus();
}

function sessionEnded(message) {
  // The page stays as it was (a form being filled keeps its values); only the token goes.
  sessionStorage.removeItem(STORE);
  session = null;
  $("#view").inert = true;
  showSignIn(`Your session has ended (${message}). Sign in again to go on where you were.`);
}

async function signIn(event) {
  event.preventDefault();
  clearNotice();
  const secret = $("#client-secret");
  const body = {
    clientId: $("#client-id").value.trim(),
    clientSecret: secret.value,
    bot: $("#bot").value.trim(),
  };
  secret.value = ""; // used once, for this request, and forgotten
  let response;
  try {
    response = await fetch("/console/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    fail(`The service cannot be reached (${error.message}).`);
    return;
  }
  body.clientSecret = "";
  const envelope = await response.json().catch(() => null);
  if (!response.ok) {
    fail(envelope?.message || `Sign-in failed: ${response.status} ${response.statusText}.`);
    secret.focus();
    return;
  }
  session = envelope.data;
  sessionStorage.setItem(STORE, JSON.stringify(session));
  $("#signin").hidden = true;
  $("#view").inert = false;
  say(envelope.message);
  chrome();
  if ($("#view").childElementCount > 0) {
    // The session had ended under this view: it is kept as it was (what was typed stays),
    // and the action that was refused can simply be done again.
    $("#view").focus();
  } else if (!location.hash) {
    location.hash = "#/lists";
  } else {
    route();
  }
}

function signOut() {
  sessionStorage.removeItem(STORE);
  session = null;
  jobsSeen.clear();
  $("#view").replaceChildren();
  chrome();
  showSignIn("You are signed out.");
}

function chrome() {
  const signedIn = Boolean(session);
  $("#nav").hidden = !signedIn;
  $("#who").hidden = !signedIn;
  $("#sign-out").hidden = !signedIn;
  $("#view").hidden = !signedIn;
  document.body.classList.toggle("read-only", Boolean(session?.readOnly));
  if (signedIn) {
    $("#who").textContent = `${session.appName} · ${session.bot}${session.readOnly ? " · read-only" : ""}`;
  }
}

function canWrite() {
  return session && !session.readOnly;
}

// ------------------------------------------------------------------ dialogs

// A modal dialog; resolves with the chosen action's value, or null when dismissed.
function ask(title, body, actions) {
  const dialog = $("#dialog");
  $("#dialog-title").textContent = title;
  $("#dialog-body").replaceChildren(...[body].flat().filter(Boolean));
  const error = $("#dialog-error");
  error.hidden = true;
  return new Promise((resolve) => {
    const buttons = actions.map(([label, value, kind, handler]) =>
      h("button", {
        type: "button",
        class: kind || "",
        onclick: async () => {
          if (handler) {
            error.hidden = true;
            const done = await attempt(handler, error);
            if (done === null) return; // the error is shown in the dialog, which stays open
          }
          dialog.close();
          resolve(value);
        },
      }, label),
    );
    buttons.push(h("button", { type: "button", class: "quiet", onclick: () => { dialog.close(); resolve(null); } }, "Cancel"));
    $("#dialog-actions").replaceChildren(...buttons);
    dialog.onclose = () => resolve(null);
    dialog.showModal();
    (dialog.querySelector("input, select") || buttons[0]).focus();
  });
}

function field(label, input) {
  const id = `f-${Math.random().toString(36).slice(2)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

// ------------------------------------------------------------------ routing

const ROUTES = [
  [/^#\/lists\/(cl-[\w-]+)$/, listPage],
  [/^#\/lists$/, listsPage],
  [/^#\/trash$/, trashPage],
  [/^#\/jobs$/, jobsPage],
  [/^#\/campaigns$/, campaignsPage],
];

async function route() {
  if (!session) return;
  clearNotice();
  say("");
  const hash = location.hash || "#/lists";
  const match = ROUTES.map(([pattern, view]) => [hash.match(pattern), view]).find(([m]) => m);
  const view = $("#view");
  for (const link of document.querySelectorAll("[data-nav]")) {
    link.toggleAttribute("aria-current", hash.startsWith(`#/${link.dataset.nav}`));
  }
  if (!match) {
    show(view, h("h1", {}, "Not found"), h("p", {}, "There is no such page."));
    return;
  }
  const [groups, render] = match;
  // Each visit renders into a frame of its own, shown only if it is still the latest visit:
  // a slow page answered after the user moved on must not replace the page they went to.
  const visit = ++visits;
  const frame = h("div", { class: "frame" });
  view.setAttribute("aria-busy", "true");
  try {
    await render(frame, ...groups.slice(1));
  } catch (error) {
    if (!(error instanceof ApiError)) console.error(error);
    if (visit !== visits) return;
    if (!(error instanceof ApiError && error.status === 401)) {
      show(frame, h("h1", {}, "This page could not be shown"));
    }
    fail(error.message);
  } finally {
    if (visit === visits) {
      view.removeAttribute("aria-busy");
      if (frame.childElementCount) view.replaceChildren(frame);
    }
  }
}

// ------------------------------------------------------------------ lists

async function listsPage(view, state = { skip: 0, search: "" }) {
  const rows = await api("GET", "/contactList/getAllListDetails", {
    query: { skip: state.skip, limit: PAGE + 1, search: state.search },
  });
  const more = rows.data.length > PAGE;
  const lists = rows.data.slice(0, PAGE);
  const again = (next) => attempt(() => listsPage(view, { ...state, ...next }));

  const search = h("input", { type: "search", value: state.search, placeholder: "Part of a name" });
  const searchForm = h("form", { class: "inline", role: "search", onsubmit: (e) => { e.preventDefault(); again({ skip: 0, search: search.value.trim() }); } },
    field("Search lists", search), h("button", { type: "submit" }, "Search"));

  let create = null;
  if (canWrite()) {
    const name = h("input", { required: true, maxlength: 48 });
    const type = h("select", {}, h("option", { value: "call" }, "call"), h("option", { value: "sms" }, "sms"));
    const dup = h("input", { type: "checkbox" });
    create = h("form", { class: "inline", id: "create-list", onsubmit: async (e) => {
      e.preventDefault();
      const made = await attempt(() => api("POST", "/contactList/createContactList", {
        json: { name: name.value, listType: type.value, allowDuplicates: dup.checked },
      }));
      if (made) { say(made.message); name.value = ""; again({ skip: 0, search: "" }); }
    } }, field("New list name", name), field("Type", type), field("Allow duplicates", dup), h("button", { type: "submit" }, "Create list"));
  }

  const table = h("table", { class: "grid", id: "lists" },
    h("caption", { class: "sr-only" }, "Contact lists"),
    h("thead", {}, h("tr", {}, ["Name", "Type", "Contacts", "Status", "In use by", "Updated", canWrite() ? "Actions" : null].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, lists.length ? lists.map((list) => h("tr", { dataset: { id: list._id } },
      h("td", {}, h("a", { href: `#/lists/${list._id}` }, list.name)),
      h("td", {}, list.listType),
      h("td", { class: "num" }, count(list.totalRecordCount)),
      h("td", {}, h("span", { class: `badge ${list.status}` }, list.status)),
      h("td", {}, (list.campaignInUse || []).map((c) => c.name).join(", ")),
      h("td", {}, when(list.updatedAt)),
      canWrite() ? h("td", { class: "actions" },
        h("button", { type: "button", class: "quiet", onclick: () => editList(list._id, () => again({})) }, "Edit"),
        h("button", { type: "button", class: "danger", onclick: () => deleteList(list, () => again({})) }, "Delete"),
      ) : null,
    )) : h("tr", {}, h("td", { colspan: 7 }, state.search ? "No list matches." : "No lists yet."))));

  const pager = h("nav", { class: "pager", "aria-label": "Pages of lists" },
    h("button", { type: "button", disabled: state.skip === 0, onclick: () => again({ skip: Math.max(0, state.skip - PAGE) }) }, "Previous"),
    h("span", {}, lists.length ? `Lists ${state.skip + 1}–${state.skip + lists.length}` : ""),
    h("button", { type: "button", disabled: !more, onclick: () => again({ skip: state.skip + PAGE }) }, "Next"));

  show(view, h("h1", {}, "Contact lists"), create, searchForm, table, pager);
}

async function editList(id, done) {
  const found = await attempt(() => api("GET", `/contactList/${id}`));
  if (!found) return;
  const list = found.data;
  const name = h("input", { value: list.name, required: true, maxlength: 48 });
  const description = h("input", { value: list.description || "", maxlength: 256 });
  const dup = h("input", { type: "checkbox", checked: list.allowDuplicates });
  const region = h("input", { value: list.defaultRegion || "", maxlength: 2, size: 3 });
  const saved = await ask(`Edit ${list.name}`,
    [field("Name", name), field("Description", description), field("Allow duplicates", dup), field("Default region (ISO 3166)", region)],
    [["Save", true, "", async () => {
      const answer = await api("PUT", `/contactList/${id}`, {
        json: { name: name.value, description: description.value, allowDuplicates: dup.checked, defaultRegion: region.value.trim().toUpperCase() },
      });
      say(answer.message);
      return answer;
    }]]);
  if (saved) done();
}

async function deleteList(list, done) {
  const days = "It can be restored from the trash until its trash period ends.";
  const body = h("p", {}, `${count(list.totalRecordCount)} contacts go with it. ${days}`);
  let refusal = null;
  const confirmed = await ask(`Delete the list ${list.name}?`, body, [["Delete", true, "danger", async () => {
    try {
      const answer = await api("DELETE", `/contactList/${list._id}`);
      say(answer.message);
      return answer;
    } catch (error) {
      if (error.status === 409 && error.body?.errors?.[0]?.reason === "list_in_use") {
        refusal = error;
        return "in use";
      }
      throw error;
    }
  }]]);
  if (refusal) {
    const names = (refusal.body.errors[0].campaignInUse || []).map((c) => c.name);
    const forced = await ask("The list is in use", [
      h("p", { class: "error", id: "in-use" }, refusal.message),
      h("p", {}, `Deleting it anyway detaches it from ${names.join(", ")} first.`),
    ], [["Detach and delete", true, "danger", async () => {
      const answer = await api("DELETE", `/contactList/${list._id}`, { query: { force: "true" } });
      say(answer.message);
      return answer;
    }]]);
    if (forced) done();
    return;
  }
  if (confirmed) done();
}

// ------------------------------------------------------------------ trash

async function trashPage(view) {
  const rows = await api("GET", "/contactList/trash");
  const table = h("table", { class: "grid", id: "trash" },
    h("caption", { class: "sr-only" }, "Deleted lists"),
    h("thead", {}, h("tr", {}, ["Name", "Type", "Contacts", "Deleted", "Restorable until", canWrite() ? "Actions" : null].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.data.length ? rows.data.map((list) => h("tr", { dataset: { id: list._id } },
      h("td", {}, list.name),
      h("td", {}, list.listType),
      h("td", { class: "num" }, count(list.totalRecordCount)),
      h("td", {}, when(list.deletedAt)),
      h("td", {}, `${when(list.purgeAfter)} (${timeLeft(list.purgeAfter)})`),
      canWrite() ? h("td", { class: "actions" }, h("button", { type: "button", onclick: async () => {
        const answer = await attempt(() => api("POST", `/contactList/${list._id}/restore`));
        if (answer) { say(answer.message); attempt(() => trashPage(view)); }
      } }, "Restore")) : null,
    )) : h("tr", {}, h("td", { colspan: 6 }, "The trash is empty."))));
  show(view, h("h1", {}, "Trash"), h("p", {}, "Deleted lists keep their contacts until their time is up."), table);
}

function timeLeft(iso) {
  const seconds = Math.max(0, (new Date(iso) - Date.now()) / 1000);
  if (seconds > 86400) return `${Math.floor(seconds / 86400)} d ${Math.floor((seconds % 86400) / 3600)} h left`;
  if (seconds > 3600) return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min left`;
  return `${Math.ceil(seconds / 60)} min left`;
}

// ------------------------------------------------------------------ a list's page

async function listPage(view, id) {
  const found = await api("GET", `/contactList/${id}`);
  const list = found.data;
  const contacts = h("section", { "aria-labelledby": "contacts-title" });
  const importer = h("section", { id: "import", "aria-labelledby": "import-title" });
  const head = h("dl", { class: "facts" },
    ...[["Contacts", count(list.totalRecordCount)], ["Status", list.status], ["Type", list.listType],
      ["Duplicates", list.allowDuplicates ? "allowed" : "skipped"], ["Region", list.defaultRegion],
      ["In use by", (list.campaignInUse || []).map((c) => c.name).join(", ") || "no campaign"],
      ["Columns", (list.columns || []).join(", ") || "none beyond the standard ones"],
      ["Updated", when(list.updatedAt)]].map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", { dataset: { fact: k } }, v))));
  // The contacts' search, shared by their pages and the export: the export holds what is shown.
  const filter = { search: "" };
  const exportButton = h("button", { type: "button", id: "export", onclick: () => attempt(() => exportList(list, filter.search)) }, "Export CSV");
  show(view, 
    h("p", { class: "crumbs" }, h("a", { href: "#/lists" }, "Lists"), " / ", list.name),
    h("h1", {}, list.name), list.description ? h("p", {}, list.description) : null,
    head, h("div", { class: "toolbar" }, exportButton), importer, contacts);
  if (canWrite()) renderImporter(importer, list);
  const zones = h("section", { id: "zones", "aria-labelledby": "zones-title" });
  contacts.before(zones);
  await Promise.all([renderContacts(contacts, list, [], filter), renderZones(zones, list)]);
}

// A bar chart of the list's contacts by time zone (meters: no inline style, read by screen readers).
async function renderZones(section, list) {
  const counts = (await api("GET", `/contactList/${list._id}/timeZones`)).data;
  if (!counts.length) {
    show(section);
    return;
  }
  const shown = counts.slice(0, 12);
  const rest = counts.slice(12).reduce((sum, item) => sum + item.count, 0);
  if (rest) shown.push({ timeZone: `${counts.length - 12} other zones`, count: rest, other: true });
  const top = Math.max(...shown.map((item) => item.count));
  show(section, h("h2", { id: "zones-title" }, "Contacts by time zone"),
    h("table", { class: "chart", id: "zones-chart" },
      h("caption", { class: "sr-only" }, "Contacts by time zone"),
      h("tbody", {}, shown.map((item) => h("tr", {},
        h("th", { scope: "row" }, item.timeZone ?? "unknown"),
        h("td", {}, h("meter", { min: 0, max: top, value: item.count, "aria-label": `${item.timeZone ?? "unknown"}: ${count(item.count)}` })),
        h("td", { class: "num" }, count(item.count)))))));
}

async function renderContacts(section, list, cursors, filter) {
  const cursor = cursors[cursors.length - 1];
  // A cursor is valid only with the search it was given under, which `filter` keeps until a new search.
  const page = (await api("GET", `/contactList/${list._id}/getAllContacts`, { query: { limit: PAGE, cursor, search: filter.search } })).data;
  const custom = list.columns || [];
  const selected = new Set();
  const start = cursors.length * PAGE;
  const rows = page.results.map((c) => h("tr", { dataset: { id: c._id } },
    canWrite() ? h("td", {}, h("input", { type: "checkbox", "aria-label": `Select ${c.phoneNumber}`, onchange: (e) => { e.target.checked ? selected.add(c._id) : selected.delete(c._id); } })) : null,
    h("td", {}, c.phoneNumber), h("td", {}, c.firstName ?? ""), h("td", {}, c.lastName ?? ""),
    h("td", {}, c.timeZone ?? ""), h("td", {}, c.uniqueId ?? ""), h("td", {}, c.contactPriority ?? ""),
    ...custom.map((name) => h("td", {}, c.fields?.[name] ?? "")),
    h("td", {}, when(c.createdAt))));
  const headers = [canWrite() ? "" : null, "Phone number", "First name", "Last name", "Time zone", "Unique id", "Priority", ...custom, "Created"].filter((x) => x !== null);
  const again = (next) => attempt(() => renderContacts(section, list, next, filter));
  const search = h("input", { type: "search", value: filter.search, placeholder: "Start of a name or unique id" });
  const searchForm = h("form", { class: "inline", role: "search", id: "contacts-search", onsubmit: (e) => {
    e.preventDefault();
    filter.search = search.value.trim();
    again([]);
  } }, field("Search contacts", search), h("button", { type: "submit" }, "Search"));
  // A search's matches are not counted by the service (totalResults is null).
  const range = rows.length ? `Contacts ${count(start + 1)}–${count(start + rows.length)}` +
    (page.totalResults === null ? ` matching “${filter.search}”` : ` of ${count(page.totalResults)}`) : "";
  const remove = canWrite() ? h("button", { type: "button", class: "danger", onclick: async () => {
    if (!selected.size) { fail("Select the contacts to delete first."); return; }
    const ok = await ask(`Delete ${selected.size} contacts?`, h("p", {}, "They are removed from the list for good."), [["Delete", true, "danger", async () => {
      const answer = await api("POST", `/contactList/${list._id}/contacts/delete`, { json: { ids: [...selected] } });
      say(answer.message);
      return answer;
    }]]);
    if (ok) again(cursors);
  } }, "Delete selected") : null;
  show(section, 
    h("h2", { id: "contacts-title" }, "Contacts"),
    searchForm,
    h("table", { class: "grid", id: "contacts" },
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: headers.length }, filter.search ? "No contact matches." : "No contacts yet.")))),
    h("nav", { class: "pager", "aria-label": "Pages of contacts" },
      h("button", { type: "button", disabled: cursors.length === 0, onclick: () => again(cursors.slice(0, -1)) }, "Previous"),
      h("span", { id: "contacts-range" }, range),
      h("button", { type: "button", disabled: !page.hasMore, onclick: () => again([...cursors, page.nextCursor]) }, "Next"),
      remove));
}

async function download(response, fallbackName) {
  const blob = await response.blob();
  const disposition = response.headers.get("content-disposition") || "";
  const name = (disposition.match(/filename="?([^";]+)"?/) || [])[1] || fallbackName;
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  say(`Downloaded ${name}.`);
}

async function exportList(list, search = "") {
  const response = await api("GET", `/contactList/${list._id}/export`, { query: { search }, accept: "text/csv", raw: true });
  await download(response, `${list.name}.csv`);
}

// --- upload: preview, mapping, progress, row errors

function parseCsv(text, maxRows) {
  // RFC 4180 reading of the first rows: quotes, doubled quotes, CRLF; the last partial line is dropped.
  const rows = [];
  let row = [];
  let value = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { value += '"'; i++; }
      else if (ch === '"') quoted = false;
      else value += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") { row.push(value); value = ""; }
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(value); rows.push(row); row = []; value = "";
    } else value += ch;
  }
  return rows;
}

async function readHead(file) {
  let stream = file.stream();
  const bytes = new Uint8Array(await file.slice(0, 2).arrayBuffer());
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) stream = stream.pipeThrough(new DecompressionStream("gzip"));
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (text.length < 65536) {
    const { value, done } = await reader.read();
    if (done) { text += "\n"; break; }
    text += value;
  }
  reader.cancel().catch(() => {});
  return text.replace(/^\ufeff/, "");
}

function guess(fieldName, headers) {
  const norm = (s) => s.toLowerCase().replace(/[\s_]/g, "");
  return headers.find((header) => norm(header) === norm(fieldName)) || "";
}

function renderImporter(section, list) {
  const file = h("input", { type: "file", accept: ".csv,.gz,text/csv,application/gzip" });
  const preview = h("div", { id: "preview" });
  show(section, h("h2", { id: "import-title" }, "Upload contacts"), field("CSV file (or gzip)", file), preview);
  file.addEventListener("change", () => attempt(async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    const rows = parseCsv(await readHead(chosen), 6);
    if (!rows.length || !rows[0].some((cell) => cell.trim())) throw new ApiError("The file has no header row.", 400);
    const headers = rows[0];
    const selects = FIELDS.map((name) => {
      const select = h("select", { dataset: { field: name } }, h("option", { value: "" }, "(none)"), headers.map((header) => h("option", { value: header }, header)));
      select.value = guess(name, headers);
      return field(name, select);
    });
    show(preview, 
      h("h3", {}, `Preview of ${chosen.name}`),
      h("table", { class: "grid", id: "preview-rows" },
        h("thead", {}, h("tr", {}, headers.map((header) => h("th", { scope: "col" }, header)))),
        h("tbody", {}, rows.slice(1).map((row) => h("tr", {}, row.map((cell) => h("td", {}, cell)))))),
      h("h3", {}, "Map the file's columns to the list's fields"),
      h("p", { class: "hint" }, "Columns not mapped are kept as custom fields."),
      h("div", { class: "mapping", id: "mapping" }, selects),
      h("button", { type: "button", id: "start-import", onclick: () => attempt(() => startImport(section, list, chosen)) }, "Start import"));
  }));
}

async function startImport(section, list, chosen) {
  const mapping = {};
  for (const select of section.querySelectorAll("select[data-field]")) {
    if (select.value) mapping[select.dataset.field] = select.value;
  }
  if (!mapping.phoneNumber) throw new ApiError("Map a column to phoneNumber: every contact needs one.", 400);
  const form = new FormData();
  form.append("file", chosen, chosen.name);
  form.append("mapping", JSON.stringify(mapping));
  const answer = await api("POST", `/contactList/${list._id}/upload`, { form });
  say(answer.message);
  jobsSeen.set(answer.jobId, { listId: list._id, listName: list.name, kind: "upload" });
  const progress = h("div", { id: "progress" });
  show(section, h("h2", { id: "import-title" }, `Importing ${chosen.name}`), progress);
  await followJob(progress, answer.jobId, list);
}

async function followJob(panel, jobId, list) {
  const began = Date.now();
  let first = null;
  for (;;) {
    const job = (await api("GET", `/jobs/${jobId}`)).data;
    if (first === null && job.processed > 0) first = { at: Date.now(), processed: job.processed };
    renderProgress(panel, job, first, began);
    if (FINISHED.has(job.state)) {
      say(`The import is ${job.state}: ${count(job.inserted)} inserted, ${count(job.duplicates)} duplicates, ${count(job.invalid)} invalid.`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
  // The list's numbers changed: show them and the contacts again, keeping the job's panel.
  const view = panel.closest(".frame");
  if (!view) return; // the user has moved on to another page
  const kept = panel;
  await listPage(view, list._id);
  const importer = view.querySelector("#import");
  show(importer, h("h2", { id: "import-title" }, "Last import"), kept);
  const again = h("button", { type: "button", onclick: () => renderImporter(importer, list) }, "Upload another file");
  importer.append(again);
}

function renderProgress(panel, job, first, began) {
  const total = job.total || 0;
  const done = job.processed || 0;
  const elapsed = first ? (Date.now() - first.at) / 1000 : 0;
  const rate = first && elapsed > 0 ? (done - first.processed) / elapsed : 0;
  const left = rate > 0 && total ? Math.max(0, (total - done) / rate) : null;
  const finished = FINISHED.has(job.state);
  const bar = h("progress", { max: total || 1, value: done, "aria-label": "Rows done" });
  const took = finished && job.startedAt && job.finishedAt ? (new Date(job.finishedAt) - new Date(job.startedAt)) / 1000 : null;
  const overall = took ? done / took : 0;
  const facts = [
    ["State", job.state], ["Rows done", total ? `${count(done)} of ${count(total)}` : count(done)],
    ["Rate", finished ? (overall ? `${count(Math.round(overall))} rows/s` : "") : rate ? `${count(Math.round(rate))} rows/s` : "measuring…"],
    [finished ? "Took" : "Time left", finished ? (took === null ? "" : `${took.toFixed(1)} s`) : left === null ? "…" : `${Math.ceil(left)} s`],
    ["Inserted", count(job.inserted)], ["Duplicates", count(job.duplicates)], ["Invalid", count(job.invalid)],
  ];
  // Stored, but plausible only (phoneVerified false): shown when there are any.
  if (job.unverified) facts.push(["Unverified", count(job.unverified)]);
  const cancel = canWrite() && !finished ? h("button", { type: "button", class: "danger", onclick: () => attempt(async () => {
    const answer = await api("POST", `/jobs/${job._id}/cancel`);
    say(`Job ${answer.data._id} is ${answer.data.state}.`);
  }) }, "Cancel import") : null;
  const errors = finished && job.errors?.length ? [
    h("h3", {}, `Row errors (${count(job.invalid)})`),
    h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Row errors" }, h("table", { class: "grid", id: "row-errors" },
      h("thead", {}, h("tr", {}, ["Line", "Field", "Code", "Value", "Message"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, job.errors.map((e) => h("tr", {}, h("td", { class: "num" }, e.row), h("td", {}, e.field ?? ""), h("td", {}, e.code), h("td", {}, e.value ?? ""), h("td", {}, e.message)))))),
    h("button", { type: "button", id: "errors-csv", onclick: () => attempt(async () => {
      const response = await api("GET", `/jobs/${job._id}/errors`, { accept: "text/csv", raw: true });
      await download(response, `${job._id}-errors.csv`);
    }) }, "Download row errors (CSV)"),
  ] : [];
  show(panel, bar,
    h("dl", { class: "facts", id: "job-facts", dataset: { state: job.state } }, facts.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", { dataset: { fact: k } }, v)))),
    job.error ? h("p", { class: "error" }, job.error) : null,
    cancel, ...errors);
}

// ------------------------------------------------------------------ jobs

const KINDS = { upload: "upload", add_contacts: "addContacts", purge_list: "purge" };

async function jobsPage(view) {
  const [recent, lists] = await Promise.all([
    api("GET", "/jobs", { query: { limit: 100 } }),
    api("GET", "/contactList/getAllListDetails", { query: { limit: 1000 } }),
  ]);
  const names = new Map(lists.data.map((list) => [list._id, list.name]));
  const jobs = recent.data;
  const table = h("table", { class: "grid", id: "jobs" },
    h("caption", { class: "sr-only" }, "Recent jobs"),
    h("thead", {}, h("tr", {}, ["Job", "Kind", "List", "State", "Done", "Inserted", "Duplicates", "Invalid", "Created", canWrite() ? "Actions" : null].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, jobs.length ? jobs.map((job) => h("tr", { dataset: { id: job._id } },
      h("td", { class: "mono" }, job._id.slice(0, 12) + "…"), h("td", {}, KINDS[job.type] || job.type),
      h("td", {}, names.has(job.contactListId)
        ? h("a", { href: `#/lists/${job.contactListId}` }, names.get(job.contactListId))
        : jobsSeen.get(job._id)?.listName || "(deleted list)"),
      h("td", {}, h("span", { class: `badge ${job.state}` }, job.state)),
      h("td", { class: "num" }, job.total === null ? count(job.processed) : `${count(job.processed)} / ${count(job.total)}`),
      h("td", { class: "num" }, count(job.inserted)), h("td", { class: "num" }, count(job.duplicates)),
      h("td", { class: "num" }, count(job.invalid)),
      h("td", {}, when(job.createdAt)),
      canWrite() ? h("td", { class: "actions" }, job.type !== "purge_list" && !FINISHED.has(job.state) ? h("button", { type: "button", class: "danger", onclick: () => attempt(async () => {
        const answer = await api("POST", `/jobs/${job._id}/cancel`);
        say(`Job ${answer.data._id} is ${answer.data.state}.`);
        await jobsPage(view);
      }) }, "Cancel") : null) : null)) : h("tr", {}, h("td", { colspan: 10 }, "No jobs yet."))));
  show(view, h("h1", {}, "Jobs"), h("p", { class: "hint" }, "The bot's most recent imports and purges."),
    h("div", { class: "toolbar" }, h("button", { type: "button", onclick: () => attempt(() => jobsPage(view)) }, "Refresh")), table);
}

// ------------------------------------------------------------------ campaigns

async function campaignsPage(view) {
  const [voice, sms] = await Promise.all(["voice", "sms"].map((type) =>
    api("POST", "/getAllCampaignDetails", { json: { type, limit: 100 } })));
  const campaigns = [...voice.data.results, ...sms.data.results];
  let create = null;
  if (canWrite()) {
    const lists = (await api("GET", "/contactList/getAllListDetails", { query: { limit: 1000 } })).data;
    const name = h("input", { required: true, maxlength: 48 });
    const list = h("select", { required: true }, lists.filter((l) => l.listType !== "dnc").map((l) => h("option", { value: l.name }, l.name)));
    const queue = h("input", { value: "Default queue", required: true });
    create = h("form", { class: "inline", id: "create-campaign", onsubmit: async (e) => {
      e.preventDefault();
      const made = await attempt(() => api("POST", "", { query: { campaignType: "voice" }, json: voiceCampaign(name.value, [list.value], queue.value) }));
      if (made) { say(made.message); attempt(() => campaignsPage(view)); }
    } }, field("New campaign name", name), field("Contact list", list), field("Queue", queue), h("button", { type: "submit" }, "Create voice campaign"));
  }
  const table = h("table", { class: "grid", id: "campaigns" },
    h("thead", {}, h("tr", {}, ["Name", "Type", "Status", "Lists", "Updated", canWrite() ? "Actions" : null].filter(Boolean).map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, campaigns.length ? campaigns.map((c) => h("tr", { dataset: { id: c._id } },
      h("td", {}, c.name), h("td", {}, c.campaignType), h("td", {}, h("span", { class: `badge ${c.status}` }, c.status)),
      h("td", {}, (c.contactLists || []).map((l) => (typeof l === "string" ? l : l.name)).join(", ")),
      h("td", {}, when(c.updatedAt)),
      canWrite() ? h("td", { class: "actions" },
        (TRANSITIONS[c.status] || []).map(([trigger, label]) => h("button", { type: "button", onclick: () => attempt(async () => {
          const answer = await api("POST", `/${c._id}`, { query: { campaignType: c.campaignType, trigger } });
          say(answer.message || `Campaign ${c.name} is ${answer.status}.`);
          await campaignsPage(view);
        }) }, label)),
        c.status !== "Active" ? h("button", { type: "button", class: "danger", onclick: async () => {
          const gone = await ask(`Delete the campaign ${c.name}?`, h("p", {}, "Its lists stay; they are no longer in use by it."), [["Delete", true, "danger", async () => {
            const answer = await api("DELETE", `/${c._id}`, { query: { campaignType: c.campaignType } });
            say(answer.message);
            return answer;
          }]]);
          if (gone) attempt(() => campaignsPage(view));
        } }, "Delete") : null) : null,
    )) : h("tr", {}, h("td", { colspan: 6 }, "No campaigns yet."))));
  show(view, h("h1", {}, "Campaigns"), create, table);
}

function voiceCampaign(name, lists, queue) {
  return {
    name, description: "", contactLists: lists, dncLists: { name: "Default Global DNC" },
    priority: "3", dialingMode: "Progressive",
    dialingStrategy: {
      callerId: { phoneNumber: "+14155550123" },
      callingHours: { frequency: "WEEKLY", timezone: "UTC", days: ["MO", "TU", "WE", "TH", "FR"].map((day) => ({ day, start: "9:00 AM", end: "6:00 PM" })) },
      dialingOrder: "FIFO", maxAttemptsPerRecord: 3, defaultRetryPeriod: 60, maxRingTime: 30,
    },
    schedule: { isSchedulingEnabled: false }, queue_name: queue, campaignType: "voice",
  };
}

// ------------------------------------------------------------------ start

function start() {
  $("#signin-form").addEventListener("submit", signIn);
  $("#sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  chrome();
  if (session) {
    $("#signin").hidden = true;
    if (!location.hash) location.hash = "#/lists";
    else route();
  } else {
    showSignIn("");
  }
}

start();
