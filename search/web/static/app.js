// The search page: the URL is the single source of truth (query, filters, page), so a search can be
// shared, reloaded and navigated with the back button. No framework, no network beyond this server.
"use strict";

const LIST_FILTERS = ["topic", "entity", "source"];       // repeatable query parameters
const FACETS = [["topics", "topic", "Topics"], ["entities", "entity", "Entities"], ["sources", "source", "Sources"]];
const PAGE_SIZE = 10;
const SNIPPET_CONTEXT = 220;                               // characters kept on each side of an answer

const $ = (sel) => document.querySelector(sel);
let inflight = null;                                       // AbortController of the running request
let runs = 0;                                              // counts run() calls: only the latest ends loading
let busyTimer = null;                                      // shows the busy state of a search still running
// A search answered within this many ms is drawn without the busy state (old results dimmed, a spinner): showing it
// at once would only flash, and drawing it takes CPU time from the server on the same machine (measured in
// docs/speed.md); a slower one shows it after this delay (people notice a wait from about 0.1-0.2 s).
const BUSY_DELAY_MS = 150;

// ---- state <-> URL ---------------------------------------------------------------------------------
function readState() {
  const p = new URLSearchParams(location.search);
  const state = { q: p.get("q") || "", page: Math.max(1, parseInt(p.get("page") || "1", 10) || 1),
                  date_from: p.get("date_from") || "", date_to: p.get("date_to") || "",
                  recency: p.get("recency") || "", similar: p.get("similar") || "", story: p.get("story") || "" };
  for (const name of LIST_FILTERS) state[name] = p.getAll(name);
  return state;
}

function toParams(state, withPaging) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  for (const name of LIST_FILTERS) for (const v of state[name]) p.append(name, v);
  for (const name of ["date_from", "date_to"]) if (state[name]) p.set(name, state[name]);
  if (state.recency && state.recency !== "0") p.set("recency", state.recency);
  if (withPaging && state.page > 1) p.set("page", String(state.page));
  return p;
}

function navigate(change) {
  const state = { ...readState(), page: 1, ...change };
  const url = toParams(state, true);
  for (const view of ["similar", "story"]) if (state[view]) url.set(view, state[view]);  // page state only
  const query = url.toString();
  history.pushState(null, "", query ? `?${query}` : location.pathname);
  run();
}

// ---- requests --------------------------------------------------------------------------------------
// A server exposed beyond this machine asks for an API key (401): the page asks for it once per tab, keeps it in
// sessionStorage and sends it as `Authorization: Bearer <key>` (the page itself is served without one).
function authHeaders(headers) {
  const key = sessionStorage.getItem("newsearch-api-key");
  return key ? { ...headers, Authorization: `Bearer ${key}` } : headers;
}

// fetch with the API key (asked for once on a 401); a non-2xx answer throws the API's own message.
async function authorizedFetch(url, init) {
  const send = () => fetch(url, { ...init, headers: authHeaders(init.headers) });
  let response = await send();
  if (response.status === 401) {
    const key = window.prompt("This newsearch server needs an API key:");
    if (key) {
      sessionStorage.setItem("newsearch-api-key", key.trim());
      response = await send();
    }
  }
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(body.error || `The server answered ${response.status}.`);
  }
  return response;
}

async function request(path, params, accept) {
  if (inflight) inflight.abort();
  inflight = new AbortController();
  return authorizedFetch(`${path}?${params}`, { signal: inflight.signal, headers: { Accept: accept } });
}

async function getJSON(path, params) {
  return (await request(path, params, "application/json")).json();
}

// /search/stream sends one JSON response per line: the fused results as soon as retrieval returns, then the
// reranked ones with answers. Each is drawn as it arrives.
async function streamJSON(path, params, onResponse) {
  const response = await request(path, params, "application/x-ndjson");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (!line.trim()) continue;
      const data = JSON.parse(line);
      if (data.error) throw new Error(data.error);         // the server could not finish (503 after the first line)
      onResponse(data);
    }
  }
}

// User Timing measures of the latest search, from its start to the first results put in the page (the fused
// ones, or the final ones when nothing came first) and to the final ones: the browser's performance tools show
// them, and the browser test and benchmarks/bench_first_results.py read them. Any new view clears them.
function clearTimings() {
  performance.clearMarks("newsearch:search");
  performance.clearMeasures("newsearch:first-results");
  performance.clearMeasures("newsearch:final-results");
}

function recordTimings(stage) {
  if (!performance.getEntriesByName("newsearch:first-results").length) {
    performance.measure("newsearch:first-results", "newsearch:search");
  }
  if (stage === "final") performance.measure("newsearch:final-results", "newsearch:search");
}

async function run() {
  const ticket = ++runs;
  clearTimings();
  const state = readState();
  syncForm(state);
  renderActiveFilters(state);
  resetWatch(state);
  setLoadingSoon(state.q ? "Searching…" : "Loading…");
  try {
    if (state.story) {
      const data = await getJSON(`/articles/${encodeURIComponent(state.story)}/story`, new URLSearchParams());
      if (ticket !== runs) return;
      renderStory(data);
    } else if (state.similar) {
      const params = toParams({ ...state, q: "", recency: "" }, true);
      params.set("size", String(PAGE_SIZE));
      const began = performance.now();
      const data = await getJSON(`/articles/${encodeURIComponent(state.similar)}/similar`, params);
      if (ticket !== runs) return;
      renderResults({ ...data, query: data.title, stage: "final", weak: [],
                      timings_ms: { total: performance.now() - began } }, state);
      if (data.results.length) {
        const story = data.same_story.length ? ` · ${data.same_story.length} more of the same story left out` : "";
        setStatus(`${data.total} articles like “${data.title}”${story}`);
      }
      renderFacets(data.facets, state);
      renderPager(data);
      document.title = `More like ${data.title} – newsearch`;
    } else if (state.q) {
      const params = toParams(state, true);
      params.set("size", String(PAGE_SIZE));
      performance.mark("newsearch:search");
      await streamJSON("/search/stream", params, (data) => {
        if (ticket !== runs) return;                       // a newer search has started
        renderResults(data, state);
        renderFacets(data.facets, state);
        renderPager(data);
        recordTimings(data.stage);
      });
      document.title = `${state.q} – newsearch`;
    } else {
      const filters = toParams(state, false);
      filters.delete("recency");                           // a ranking option: /facets takes filters only
      const data = await getJSON("/facets", filters);
      if (ticket !== runs) return;
      clearResults();
      setStatus("Type a question or a few words. Use the filters on the left to narrow the news.");
      renderFacets(data, state);
      document.title = "newsearch";
    }
  } catch (err) {
    if (err.name === "AbortError" || ticket !== runs) return;  // a newer search owns the page now
    clearResults();
    setStatus(err.message || "Something went wrong. Try again.", "error");
  } finally {
    if (ticket === runs) setLoading(false);                // an aborted older run leaves the newer one loading
  }
}

// ---- rendering -------------------------------------------------------------------------------------
function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
}

function setLoading(on, message) {
  clearTimeout(busyTimer);
  const main = $("#results");
  main.classList.toggle("loading", on);
  main.setAttribute("aria-busy", on ? "true" : "false");
  if (on) setStatus(message, "busy");
}

// Busy for assistive technology at once; for the eye only if the search is still running after BUSY_DELAY_MS.
function setLoadingSoon(message) {
  clearTimeout(busyTimer);
  $("#results").setAttribute("aria-busy", "true");
  busyTimer = setTimeout(() => setLoading(true, message), BUSY_DELAY_MS);
}

function setStatus(message, kind = "") {
  const status = $("#status");
  status.replaceChildren(message);
  status.className = `status ${kind}`.trim();
}

// The story timeline: the article, its copies and its follow-ups, oldest first.
function renderStory(data) {
  clearResults();
  const list = $("#result-list");
  list.dataset.stage = "final";
  const head = data.timeline.find((e) => e.relation === "this article");
  setStatus(`Story of “${head ? head.title : data.article_id}”: ${data.timeline.length} articles within ` +
            `${data.days} days naming ${data.entities.join(", ") || "its entities"}`);
  for (const entry of data.timeline) {
    const date = el("time", { className: "date", textContent: entry.published_at ? formatDate(entry.published_at) : "" });
    const link = el("a", { href: `/articles/${encodeURIComponent(entry.article_id)}`, target: "_blank",
                           rel: "noopener", textContent: entry.title });
    list.append(el("li", { className: "result story-entry" },
                   el("div", { className: "meta" }, date, el("span", { className: "badge", textContent: entry.relation }),
                      el("span", { className: "source", textContent: entry.source || "" })),
                   el("h3", { className: "title" }, link),
                   entry.shared.length ? el("p", { className: "passage", textContent: `also names ${entry.shared.join(", ")}` }) : ""));
  }
  document.title = "Story – newsearch";
}

function clearResults() {
  $("#result-list").replaceChildren();
  $("#weak-list").replaceChildren();
  $("#weak").hidden = true;
  $("#pager").replaceChildren();
}

// Weaker matches: results the pair head scored below the model's floor, folded away below the good ones.
function renderWeak(data) {
  const box = $("#weak");
  const list = $("#weak-list");
  list.replaceChildren();
  const weak = data.weak || [];
  box.hidden = !weak.length;
  if (!weak.length) return;
  box.querySelector("summary").textContent = `${weak.length} weaker ${weak.length === 1 ? "match" : "matches"}`;
  box.open = false;
  const template = $("#result-template");
  for (const result of weak) {
    const item = template.content.firstElementChild.cloneNode(true);
    fillResult(item, result);
    list.append(item);
  }
}

function syncForm(state) {
  $("#q").value = state.q;
  $("#date_from").value = state.date_from;
  $("#date_to").value = state.date_to;
  $("#recency").value = state.recency || "0";
  showRecency();
}

function showRecency() {
  const value = parseFloat($("#recency").value);
  $("#recency-value").textContent = value === 0 ? "off" : value === 1 ? "newest first" : `${Math.round(value * 100)}%`;
}

function renderResults(data, state) {
  const list = $("#result-list");
  list.replaceChildren();
  list.dataset.stage = data.stage;                         // "fused" (first results), then "final"
  clearTimeout(busyTimer);                                 // first results are readable at once
  $("#results").classList.toggle("loading", false);
  list.start = (data.page - 1) * data.size + 1;
  renderWeak(data);
  if (!data.results.length) {
    const filtered = LIST_FILTERS.some((n) => state[n].length) || state.date_from || state.date_to;
    const status = $("#status");
    if (!data.total && data.weak && data.weak.length) {
      setStatus(`No good match for “${data.query}”: what was found is listed under weaker matches. `, "empty");
      status.append("Try other words or a shorter question.");
      return;
    }
    setStatus(data.total ? `No results on page ${data.page}. ` : `No articles match “${data.query}”. `, "empty");
    if (filtered) status.append(el("button", { type: "button", className: "link", textContent: "Clear all filters",
                                                onclick: () => navigate(clearedFilters()) }));
    else if (!data.total) status.append("Try other words or a shorter question.");
    return;
  }
  const seconds = (data.timings_ms.total / 1000).toFixed(2);
  const articles = `${data.total} ${data.total === 1 ? "article" : "articles"}`;
  if (data.stage === "fused") setStatus(`${articles} · ${seconds} s · ranking and reading answers…`, "busy");
  else setStatus(`${articles} · ${seconds} s${data.cached ? " (cached)" : ""}`);
  const template = $("#result-template");
  for (const result of data.results) {
    const item = template.content.firstElementChild.cloneNode(true);
    fillResult(item, result);
    list.append(item);
  }
}

function fillResult(item, r) {
  const topic = item.querySelector(".topic");
  if (r.topic) {
    topic.replaceWith(filterButton("topic", r.topic, "badge topic"));
  } else topic.remove();
  item.querySelector(".source").textContent = r.source || "";
  const date = item.querySelector(".date");
  if (r.published_at) {
    date.dateTime = r.published_at;
    date.textContent = formatDate(r.published_at);
  } else date.remove();
  item.querySelector(".why").textContent = { both: "dense + lexical", dense: "dense", lexical: "lexical" }[r.matched];
  const link = item.querySelector(".title a");
  link.textContent = r.title;
  link.href = safeURL(r.url) || `/articles/${encodeURIComponent(r.article_id)}`;
  item.querySelector(".passage").replaceWith(passageNode(r.passage));
  const chips = item.querySelector(".entities");
  for (const name of r.entities) chips.append(el("li", {}, filterButton("entity", name, "chip")));
  item.querySelector(".similar").textContent = r.similar ? `+ ${r.similar} similar` : "";
  item.querySelector(".foot").append(
    el("button", { type: "button", className: "link more-like", textContent: "More like this",
                   onclick: () => navigate({ similar: r.article_id, story: "", q: "" }) }),
    el("button", { type: "button", className: "link story", textContent: "Story",
                   onclick: () => navigate({ story: r.article_id, similar: "", q: "" }) }));
  item.querySelector(".score").textContent = `score ${r.score.toFixed(3)}`;
}

// An article's own link only when it is http(s): a stored `javascript:` URL must not become a clickable script.
function safeURL(url) {
  try {
    return url && ["http:", "https:"].includes(new URL(url, location.href).protocol) ? url : "";
  } catch {
    return "";
  }
}

// The passage with its answer in <mark>; long passages are cut to a window around the answer.
// The API's offsets count Unicode code points (Python's str indices); JavaScript strings index UTF-16 units,
// which differ after any character outside the Basic Multilingual Plane (an emoji, 𝐛𝐨𝐥𝐝 letters): slice code points.
function passageNode(passage) {
  const chars = Array.from(passage.text);
  const { answer } = passage;
  const terms = passage.terms || [];                      // where the query's words occur: bold
  const node = el("p", { className: "passage" });
  let from = 0;
  let to = chars.length;
  if (answer) {
    from = Math.max(0, answer.start - SNIPPET_CONTEXT);
    to = Math.min(chars.length, answer.end + SNIPPET_CONTEXT);
  } else if (chars.length > 2 * SNIPPET_CONTEXT) {
    to = 2 * SNIPPET_CONTEXT;
  }
  const cuts = new Set([from, to]);
  for (const [a, b] of terms) if (b > from && a < to) { cuts.add(Math.max(a, from)); cuts.add(Math.min(b, to)); }
  if (answer) { cuts.add(answer.start); cuts.add(answer.end); }
  const points = [...cuts].sort((x, y) => x - y);
  if (from > 0) node.append("…");
  let mark = null;
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [points[i], points[i + 1]];
    const text = chars.slice(a, b).join("");
    const piece = terms.some(([s, e]) => s <= a && b <= e) ? el("b", { className: "term" }, text) : text;
    if (answer && answer.start <= a && b <= answer.end) {  // the answer is one <mark>, terms inside it bold too
      if (!mark) {
        mark = el("mark", { title: `answer confidence ${(answer.confidence * 100).toFixed(0)}%` });
        node.append(mark);
      }
      mark.append(piece);
    } else {
      node.append(piece);
    }
  }
  if (to < chars.length) node.append("…");
  return node;
}

function filterButton(name, value, className) {
  const active = readState()[name].includes(value);
  return el("button", { type: "button", className, textContent: value, title: `${active ? "Remove" : "Filter by"} ${name} ${value}`,
                        onclick: () => toggleFilter(name, value) });
}

function renderFacets(facets, state) {
  const box = $("#facets");
  box.replaceChildren();
  for (const [key, param, label] of FACETS) {
    const values = facets[key] || [];
    const listed = new Set(values.map((v) => v.value));
    const rows = [...state[param].filter((v) => !listed.has(v)).map((v) => ({ value: v, count: null })), ...values];
    if (!rows.length) continue;
    const list = el("ul", { className: "facet-list" });
    for (const { value, count } of rows) {
      const active = state[param].includes(value);
      const button = el("button", { type: "button", className: "facet", onclick: () => toggleFilter(param, value) },
                        el("span", { className: "facet-value", textContent: value }),
                        el("span", { className: "count", textContent: count === null ? "" : String(count) }));
      button.setAttribute("aria-pressed", String(active));
      button.dataset.facet = param;
      button.dataset.value = value;
      list.append(el("li", {}, button));
    }
    box.append(el("section", { className: "panel" }, el("h2", { textContent: label }), list));
  }
  renderDates(facets.dates || [], box);
}

// The date histogram: one bar per day, month or year (the API picks the unit from the span); a bar sets the
// date filter to its period.
function renderDates(buckets, box) {
  if (buckets.length < 2) return;
  const most = Math.max(...buckets.map((b) => b.count));
  const chart = el("div", { className: "histogram", role: "group", ariaLabel: "Articles over time" });
  for (const { value, count } of buckets) {
    const [from, to] = period(value);
    const bar = el("span", { className: "bar" });
    bar.style.height = `${Math.max(4, (100 * count) / most)}%`;  // CSSOM, which the page's CSP allows
    const button = el("button", { type: "button", className: "bucket", title: `${value}: ${count} articles`,
                                  onclick: () => navigate({ date_from: from, date_to: to }) }, bar);
    button.dataset.value = value;
    chart.append(button);
  }
  const first = buckets[0].value;
  const last = buckets[buckets.length - 1].value;
  box.prepend(el("section", { className: "panel" }, el("h2", { textContent: "Dates" }), chart,
                 el("div", { className: "histogram-axis" }, el("span", { textContent: first }),
                    el("span", { textContent: last }))));
}

// The first and last day of a YYYY, YYYY-MM or YYYY-MM-DD bucket.
function period(value) {
  if (value.length === 10) return [value, value];
  if (value.length === 7) {
    const [year, month] = value.split("-").map(Number);
    const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
    return [`${value}-01`, `${value}-${String(days).padStart(2, "0")}`];
  }
  return [`${value}-01-01`, `${value}-12-31`];
}

function renderActiveFilters(state) {
  const box = $("#active-filters");
  box.replaceChildren();
  for (const name of LIST_FILTERS) {
    for (const value of state[name]) {
      box.append(el("button", { type: "button", className: "chip active", title: `Remove ${name} filter`,
                                textContent: `${name}: ${value} ×`, onclick: () => toggleFilter(name, value) }));
    }
  }
  for (const name of ["date_from", "date_to"]) {
    if (state[name]) box.append(el("button", { type: "button", className: "chip active",
                                                textContent: `${name === "date_from" ? "from" : "to"} ${state[name]} ×`,
                                                onclick: () => navigate({ [name]: "" }) }));
  }
}

function renderPager(data) {
  const pager = $("#pager");
  pager.replaceChildren();
  if (data.pages <= 1) return;
  const go = (page) => { navigate({ page }); $("#results").focus(); };
  pager.append(
    el("button", { type: "button", textContent: "← Previous", disabled: data.page <= 1, onclick: () => go(data.page - 1) }),
    el("span", { className: "page-of", textContent: `Page ${data.page} of ${data.pages}` }),
    el("button", { type: "button", textContent: "Next →", disabled: data.page >= data.pages, onclick: () => go(data.page + 1) }),
  );
}

function formatDate(iso) {
  const date = new Date(iso);
  return isNaN(date) ? iso : date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

// ---- watches ---------------------------------------------------------------------------------------
// "Watch this search" saves the query and filters (POST /watches); `news-index add` then records the new articles
// that match, served as the watch's Atom feed.
function resetWatch(state) {
  $("#watch-bar").hidden = !state.q || Boolean(state.similar || state.story);
  $("#watch-status").replaceChildren();
  $("#watch-status").className = "";
  $("#watch-button").disabled = false;
}

async function watchSearch() {
  const state = readState();
  const body = { q: state.q };
  for (const name of LIST_FILTERS) if (state[name].length) body[name] = state[name];
  for (const name of ["date_from", "date_to"]) if (state[name]) body[name] = state[name];
  const button = $("#watch-button");
  const status = $("#watch-status");
  button.disabled = true;
  try {
    const response = await authorizedFetch("/watches", {
      method: "POST", headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify(body) });
    const watch = await response.json();
    status.className = "saved";
    status.replaceChildren(`Watching (#${watch.id}): new matching articles are collected as they are indexed · `,
                           el("a", { href: watch.feed, className: "feed", textContent: "Atom feed" }));
  } catch (err) {
    button.disabled = false;
    status.className = "error";
    status.replaceChildren(err.message || "Could not save the watch.");
  }
}

// ---- events ----------------------------------------------------------------------------------------
function toggleFilter(name, value) {
  const current = readState()[name];
  navigate({ [name]: current.includes(value) ? current.filter((v) => v !== value) : [...current, value] });
}

function clearedFilters() {
  return { topic: [], entity: [], source: [], date_from: "", date_to: "" };
}

$("#search-form").addEventListener("submit", (event) => {
  event.preventDefault();
  navigate({ q: $("#q").value.trim(), similar: "", story: "" });
});
for (const name of ["date_from", "date_to"]) {
  $(`#${name}`).addEventListener("change", (event) => navigate({ [name]: event.target.value }));
}
$("#watch-button").addEventListener("click", watchSearch);
$("#recency").addEventListener("input", showRecency);
$("#recency").addEventListener("change", (event) => navigate({ recency: event.target.value }));
window.addEventListener("popstate", run);
run();
