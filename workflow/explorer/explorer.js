// textdrift explorer: draws and filters the payload written by textdrift.explorer; computes no
// statistic. Every piece of corpus text goes into the page through textContent, never as markup.
"use strict";
const D = JSON.parse(document.getElementById("payload").textContent);
// The term index comes gzip-compressed (base64, `terms_gz`; textdrift.explorer.pack_terms) and is
// inflated by the browser itself (DecompressionStream: no network, works from file://).
async function inflateTerms() {
  if (D.terms_gz !== undefined) {
    const bytes = Uint8Array.from(atob(D.terms_gz), (c) => c.charCodeAt(0));
    delete D.terms_gz;
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    D.terms = JSON.parse(await new Response(stream).text());
  }
  // a language written without spaces shows its terms without the spaces between their tokens
  Object.values(D.terms).forEach((T) => { T.display = T.unspaced ? T.terms.map((t) => t.split(" ").join("")) : null; });
}
const $ = (id) => document.getElementById(id);
const LANG_NAMES = { zh: "Chinese", en: "English" };
const langName = (l) => LANG_NAMES[l] || l;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}
function fmt(x, digits) {
  if (x === null || x === undefined || x === "") return "";
  if (typeof x !== "number") return String(x);
  if (Number.isInteger(x)) return String(x);
  return x.toFixed(digits === undefined ? 3 : digits);
}
function clear(node) { node.replaceChildren(); return node; }
function options(select, values, labels) {
  clear(select);
  values.forEach((v, i) => { const o = el("option", labels ? labels[i] : v); o.value = String(v); select.append(o); });
}
// A table from column names and rows of values; cls(col) -> cell class; onClick(row, tr) makes rows clickable.
function table(cols, rows, opt) {
  opt = opt || {};
  const t = el("table"), head = el("tr");
  cols.forEach((c) => head.append(el("th", (opt.titles && opt.titles[c]) || c, opt.cls ? opt.cls(c) : "")));
  const thead = el("thead");
  thead.append(head);
  t.append(thead);
  const body = el("tbody");
  rows.forEach((r, i) => {
    const tr = el("tr");
    cols.forEach((c, j) => {
      const v = opt.get ? opt.get(r, c, j) : r[j];
      const td = el("td", typeof v === "number" ? fmt(v, opt.digits) : v, opt.cls ? opt.cls(c) : "");
      if (c === "status" && v) td.classList.add("status-" + v);
      tr.append(td);
    });
    if (opt.onClick) {
      tr.className = "click";
      tr.addEventListener("click", () => {
        body.querySelectorAll("tr.selected").forEach((x) => x.classList.remove("selected"));
        tr.classList.add("selected");
        opt.onClick(r, i);
      });
    }
    body.append(tr);
  });
  t.append(body);
  return t;
}
// Text with [a, b) highlighted: three text nodes, the middle one in <mark>.
function highlighted(text, a, b) {
  const span = el("span");
  span.append(document.createTextNode(text.slice(0, a)), el("mark", text.slice(a, b)),
    document.createTextNode(text.slice(b)));
  return span;
}
const NUM = /^(count|tokens|per_10k|ci_|z$|q$|p$|cosine|jsd|baseline|halves|excess|p_cosine|year|para|sent|gap|pair|cost|count_|total_|tokens_|rounds|paragraphs|rank|n$)/;
const numCls = (c) => (NUM.test(c) ? "num" : "");

// ---- charts (Vega-Lite specs compiled in the page by the vendored vega-lite) -----------------
const views = {};
function chart(name, container, spec, onClick) {
  if (views[name]) views[name].finalize();
  clear(container);
  const full = Object.assign({ $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    config: { font: "system-ui, sans-serif", view: { stroke: "#ddd" }, axis: { labelFontSize: 11 } } }, spec);
  let view;
  try {
    view = new vega.View(vega.parse(vegaLite.compile(full).spec), { renderer: "svg", container: container, hover: true });
  } catch (err) {
    container.append(el("p", "The chart could not be drawn: " + err.message, "empty"));
    return Promise.resolve();
  }
  if (onClick) view.addEventListener("click", (ev, item) => { if (item && item.datum && item.datum.year !== undefined) onClick(item.datum); });
  views[name] = view;
  return view.runAsync();
}
const YEAR_AXIS = { format: "d", tickMinStep: 1, labelAngle: 0, title: null };
// a year axis with half a year of room on each side, so the first and last points are not cut
function yearX(years) {
  const lo = Math.min.apply(null, years), hi = Math.max.apply(null, years);
  return { field: "year", type: "quantitative", axis: YEAR_AXIS, scale: { domain: [lo - 0.5, hi + 0.5], nice: false, zero: false } };
}

// ---- Themes -------------------------------------------------------------------------------
const TH = D.themes;
const themeIndex = {};
Object.keys(TH.labels).forEach((id, i) => { themeIndex[id] = i; });
const themeLabel = (id) => (TH.labels[id] ? TH.labels[id].en : id);
const themeRows = TH.rows.map((r) => { const o = {}; TH.cols.forEach((c, i) => { o[c] = r[i]; }); o.label = themeLabel(o.theme); return o; });

function drawThemes() {
  const lang = $("theme-lang").value;
  const data = themeRows.filter((r) => lang === "all" || r.lang === lang);
  const x = yearX(themeRows.map((r) => r.year));
  const y = { field: "per_10k", type: "quantitative", title: "per 10,000 tokens" };
  const color = { field: "lang", type: "nominal", title: "language", scale: { domain: D.meta.languages } };
  const tooltip = [{ field: "label", title: "theme" }, { field: "lang" }, { field: "year", format: "d" },
    { field: "count" }, { field: "tokens" }, { field: "per_10k", format: ".1f" },
    { field: "ci_low", format: ".1f" }, { field: "ci_high", format: ".1f" }];
  const labels = Object.keys(TH.labels).map(themeLabel);
  return chart("themes", $("theme-chart"), {
    data: { values: data },
    facet: { field: "label", type: "nominal", title: null, sort: labels, header: { labelFontWeight: 600, labelFontSize: 12 } },
    columns: 4,
    spec: {
      width: 210, height: 110,
      layer: [
        { mark: { type: "rule", opacity: 0.55 }, encoding: { x: x, y: Object.assign({}, y, { field: "ci_low" }), y2: { field: "ci_high" }, color: color } },
        { mark: { type: "line", opacity: 0.6 }, encoding: { x: x, y: y, color: color } },
        { mark: { type: "point", size: 70, filled: true, cursor: "pointer", strokeWidth: 1.5 },
          encoding: { x: x, y: y, stroke: color, tooltip: tooltip,
            fill: { condition: { test: "datum.low_data", value: "white" }, field: "lang", type: "nominal", scale: { domain: D.meta.languages } } } },
      ],
    },
    resolve: { scale: { y: "independent" } },
  }, (d) => showThemeCell(d.theme, d.lang, d.year));
}

function showThemeCell(theme, lang, year) {
  const box = clear($("theme-contexts"));
  const row = themeRows.find((r) => r.theme === theme && r.lang === lang && r.year === year);
  const cell = TH.cells[theme + "|" + lang + "|" + year] || { total: 0, rows: [] };
  box.dataset.cell = theme + "|" + lang + "|" + year;
  box.append(el("h3", themeLabel(theme) + " · " + langName(lang) + " · " + year));
  if (row) {
    box.append(el("p", row.count + " matches in " + row.tokens + " kept tokens: " + fmt(row.per_10k, 1) +
      " per 10,000 (interval " + fmt(row.ci_low, 1) + "–" + fmt(row.ci_high, 1) + ", " + row.ci_method + ")" +
      (row.low_data ? "; low data" : ""), "note"));
  }
  box.append(el("p", cell.rows.length < cell.total ? "Showing " + cell.rows.length + " of " + cell.total +
    " matches (a seeded random sample; all are in theme_kwic.csv)." : "All " + cell.total + " matches.", "note count-note"));
  box.scrollIntoView({ block: "start" });
  if (!cell.rows.length) return;
  const K = TH.kwic_cols, A = D.align;
  const other = A.langs.filter((l) => l !== lang)[0];
  const cols = ["doc_id", "para", "role", "term", "left", "match", "right", "aligned"];
  const titles = { aligned: "aligned paragraph" + (other ? " (" + langName(other) + ")" : "") };
  const t = table(cols, cell.rows, {
    titles: titles,
    cls: (c) => (c === "para" ? "num" : c),
    get: (r, c) => (c === "aligned" ? "" : r[K.indexOf(c)]),
  });
  // the aligned paragraph once per paragraph (later matches in it point up), scrollable
  t.querySelectorAll("tbody tr").forEach((tr, i) => {
    const r = cell.rows[i], prev = cell.rows[i - 1], ref = r[K.indexOf("align")];
    const td = tr.lastChild;
    if (ref === null || ref === undefined) return;
    if (prev && prev[0] === r[0] && prev[1] === r[1]) { td.textContent = "↑ same paragraph"; td.classList.add("same"); return; }
    const pair = A.rows[ref];
    td.append(el("div", pair[A.cols.indexOf(other + "_text")] || "(no paragraph aligned)"));
  });
  box.append(t);
}

// ---- Phrases ------------------------------------------------------------------------------
const PH = D.phrases;
function stepsOf(lang) { return PH.steps.filter((s) => s.lang === lang); }
function fillPhraseSteps() {
  const steps = stepsOf($("phrase-lang").value);
  options($("phrase-step"), steps.map((s, i) => i), steps.map((s) => s.year_from + " → " + s.year_to));
  if (steps.length) $("phrase-step").value = String(steps.length - 1);
  drawPhrases();
}
function drawPhrases() {
  const step = stepsOf($("phrase-lang").value)[+$("phrase-step").value];
  clear($("phrase-up")); clear($("phrase-down")); clear($("phrase-contexts")); clear($("phrase-summary"));
  if (!step) return;
  $("phrase-summary").textContent = step.tested + " phrases tested in this step; documents " + (step.docs_from || "–") +
    " → " + (step.docs_to || "–") + (step.genre_match ? "; genres: " + step.genre_match : "") +
    ". Status: rising/falling/new/gone when q ≤ " + D.meta.q_threshold + " (else stable; insufficient = a low-data year).";
  const C = PH.cols;
  const cols = ["phrase", "status", "count_from", "count_to", "z", "q"];
  const titles = { count_from: String(step.year_from), count_to: String(step.year_to) };
  const get = (r, c) => (c === "phrase" ? r[C.indexOf("display")] : r[C.indexOf(c)]);
  [["phrase-up", step.up], ["phrase-down", step.down]].forEach(([id, rows]) => {
    $(id).append(rows.length ? table(cols, rows, { titles: titles, get: get, cls: numCls, digits: 3,
      onClick: (r) => showPhrase(step, r) }) : el("p", "none", "empty"));
  });
}
function showPhrase(step, r) {
  const C = PH.cols, T = D.terms[step.lang];
  const box = clear($("phrase-contexts"));
  const phrase = r[C.indexOf("phrase")];
  box.dataset.phrase = phrase;
  box.append(el("h3", r[C.indexOf("display")] + " · " + step.year_from + " → " + step.year_to));
  box.append(el("p", "count " + r[C.indexOf("count_from")] + " → " + r[C.indexOf("count_to")] + " (of " +
    r[C.indexOf("total_from")] + " and " + r[C.indexOf("total_to")] + " n-grams of its length), z = " +
    fmt(r[C.indexOf("z")], 2) + ", q = " + fmt(r[C.indexOf("q")], 3) + ", " + r[C.indexOf("status")], "note"));
  const ti = termPos(T, phrase);
  const two = el("div", null, "two");
  [[step.year_from, r[C.indexOf("count_from")]], [step.year_to, r[C.indexOf("count_to")]]].forEach(([year, count]) => {
    const col = el("div", null, "year-col");
    col.dataset.year = String(year);
    col.append(el("h3", String(year)));
    col.append(sentenceList(T, ti, year, count, D.meta.settings.phrase_contexts));
    two.append(col);
  });
  box.append(two);
  box.scrollIntoView({ block: "start" });
}

// ---- Any term -----------------------------------------------------------------------------
const termMaps = {};
function termPos(T, term) {
  if (!termMaps[T.lang]) {
    const m = new Map(), disp = new Map();
    T.terms.forEach((t, i) => { m.set(t, i); if (T.display) { const d = T.display[i]; if (!disp.has(d)) disp.set(d, []); disp.get(d).push(i); } });
    termMaps[T.lang] = { exact: m, display: disp };
  }
  const i = termMaps[T.lang].exact.get(term);
  return i === undefined ? -1 : i;
}
// Sentences of term i in a year: [year index, sentence, start, end] rows of the payload.
function sentenceList(T, i, year, count, cap) {
  cap = cap || D.meta.settings.term_contexts;
  const frag = document.createDocumentFragment();
  const yi = T.years.indexOf(year);
  const rows = [];
  const flat = i < 0 ? [] : T.ctx[i];  // sentence, start, length: three numbers a sentence (its year: its document's)
  const yc = D.docs.cols.indexOf("year");
  for (let k = 0; k < flat.length; k += 3) {
    if (rows.length < cap && D.docs.rows[T.sentences[flat[k]][0]][yc] === year) rows.push([yi, flat[k], flat[k + 1], flat[k + 1] + flat[k + 2]]);
  }
  const shown = rows.length;
  frag.append(el("p", count === 0 ? "No occurrence." : (shown < count ? count + " occurrences; " + (shown ? shown +
    " sentence" + (shown === 1 ? "" : "s") + " shown (seeded sample, at most " + cap + " a year)." : "no sentence in this year.") :
    count + " occurrence" + (count === 1 ? "" : "s") + "."), "note"));
  const ul = el("ul", null, "sentences");
  rows.forEach((c) => {
    const s = T.sentences[c[1]];
    const li = el("li");
    li.append(highlighted(s[2], c[2], c[3]), el("span", D.docs.rows[s[0]][0] + " ¶" + s[1], "src"));
    ul.append(li);
  });
  frag.append(ul);
  return frag;
}
function resolve(T, query) {
  const q = query.trim().toLowerCase().replace(/\s+/g, " ");
  if (!q) return [];
  termPos(T, "");
  const maps = termMaps[T.lang], found = [];
  const add = (i) => { if (i >= 0 && found.indexOf(i) < 0) found.push(i); };
  if (T.aliases[q]) add(termPos(T, T.aliases[q]));
  add(termPos(T, q));
  if (!T.display) add(termPos(T, q.split(" ").map((w) => T.surface[w] || w).join(" ")));
  if (T.display) (maps.display.get(q.replace(/ /g, "")) || []).forEach(add);
  const flat = q.replace(/ /g, "");
  for (let i = 0; i < T.terms.length && found.length < 24; i++) {
    if (T.terms[i].includes(q) || (T.display && T.display[i].includes(flat))) add(i);
  }
  return found.slice(0, 24);
}
// "auto": Chinese when the query has a Han character, else the first spaced language
function termLang(query) {
  const v = $("term-lang").value;
  if (v !== "auto") return v;
  const L = D.meta.languages;
  const han = /[\u3400-\u9fff]/.test(query);
  return L.find((l) => (!!D.terms[l].display) === han) || L[0];
}
function termSuggest() {
  const query = $("term-query").value;
  const T = D.terms[termLang(query)];
  const box = clear($("term-suggestions"));
  const hits = resolve(T, query);
  if (!hits.length) { clear($("term-chart")); clear($("term-table")); clear($("term-contexts")); }
  if (!query.trim()) return;
  if (!hits.length) {
    const cap = D.meta.settings.max_terms;
    box.append(el("span", "Not in the index: " + (cap ? "the " + T.terms.length + " most frequent of the " : "every one of the ") +
      T.vocabulary + " counted words and n-grams with at least " + T.min_count + " occurrences (" + T.terms.length +
      "), and every phrase of the Phrases view. A term counted once, split differently by the segmenter, or made of dropped words is not there.", "empty"));
    return;
  }
  hits.forEach((i, k) => {
    const b = el("button", (T.display ? T.display[i] : T.terms[i]) + " (" + T.stats[i].filter((v, k) => k % 2).reduce((a, c) => a + c, 0) + ")");
    b.type = "button";
    b.addEventListener("click", () => { box.querySelectorAll("button").forEach((x) => x.classList.remove("active")); b.classList.add("active"); showTerm(T, i); });
    box.append(b);
    if (k === 0) { b.classList.add("active"); showTerm(T, i); }
  });
}
// the rate and interval of a count in a year, as computed by the workflow: [count, per_10k, ci_low, ci_high]
const rateMaps = {};
function rateOf(T, yi, c) {
  if (!rateMaps[T.lang]) rateMaps[T.lang] = T.rates.map((rows) => new Map(rows.map((r) => [r[0], r])));
  return rateMaps[T.lang][yi].get(c) || [c, null, null, null];
}
function showTerm(T, i) {
  const count = {};
  for (let k = 0; k < T.stats[i].length; k += 2) count[T.stats[i][k]] = T.stats[i][k + 1];
  const rows = T.years.map((y, yi) => {
    const r = rateOf(T, yi, count[yi] || 0);
    return { year: y, count: r[0], tokens: T.tokens[yi], per_10k: r[1], ci_low: r[2], ci_high: r[3],
      low_data: T.tokens[yi] < D.meta.low_data_tokens };
  });
  const x = yearX(T.years);
  const y = { field: "per_10k", type: "quantitative", title: "per 10,000 tokens" };
  chart("term", $("term-chart"), {
    data: { values: rows }, width: 640, height: 200,
    layer: [
      { mark: { type: "rule", opacity: 0.6 }, encoding: { x: x, y: { field: "ci_low", type: "quantitative", title: "per 10,000 tokens" }, y2: { field: "ci_high" } } },
      { mark: { type: "line", opacity: 0.6 }, encoding: { x: x, y: y } },
      { mark: { type: "point", size: 70, filled: true, cursor: "pointer" }, encoding: { x: x, y: y,
        fill: { condition: { test: "datum.low_data", value: "white" }, value: "#4c78a8" }, stroke: { value: "#4c78a8" },
        tooltip: [{ field: "year", format: "d" }, { field: "count" }, { field: "tokens" }, { field: "per_10k", format: ".2f" }, { field: "ci_low", format: ".2f" }, { field: "ci_high", format: ".2f" }] } },
    ],
  }, (d) => { const h = $("term-contexts").querySelector('[data-year="' + d.year + '"]'); if (h) h.scrollIntoView(); });
  const label = T.display ? T.display[i] : T.terms[i];
  clear($("term-table")).append(el("h3", label + " · " + langName(T.lang)),
    table(["year", "count", "tokens", "per_10k", "ci_low", "ci_high"], rows.map((r) => [r.year, r.count, r.tokens, r.per_10k, r.ci_low, r.ci_high]), { cls: numCls, digits: 2 }));
  const box = clear($("term-contexts"));
  box.dataset.term = T.terms[i];
  rows.filter((r) => r.count > 0).forEach((r) => {
    const h = el("h3", String(r.year));
    h.dataset.year = String(r.year);
    box.append(h, sentenceList(T, i, r.year, r.count));
  });
}

// ---- New formulations (new_formulations.csv) ----------------------------------------------
const F = D.formulations || { cols: [], rows: [] };
const FC = (c) => F.cols.indexOf(c);
function fillFormulationYears() {
  const lang = $("form-lang").value;
  const years = [...new Set(F.rows.filter((r) => r[FC("lang")] === lang).map((r) => r[FC("year")]))].sort((a, b) => a - b);
  options($("form-year"), years);
  drawFormulations();
}
function drawFormulations() {
  const lang = $("form-lang").value, year = Number($("form-year").value);
  const cols = ["rank", "formulation", "count", "paragraphs", "documents", "years", "example"].filter((c) => FC(c) >= 0);
  clear($("form-contexts"));
  [["new", "form-new"], ["vanished", "form-vanished"]].forEach(([status, id]) => {
    const rows = F.rows.filter((r) => r[FC("lang")] === lang && r[FC("year")] === year && r[FC("status")] === status);
    const box = clear($(id));
    box.append(rows.length ? table(cols, rows.map((r) => cols.map((c) => r[FC(c)])), {
      cls: (c) => (c === "example" ? "text" : numCls(c)), onClick: (r, k) => showFormulation(rows[k]) }) : el("p", "none", "empty"));
  });
}
function showFormulation(r) {
  const lang = r[FC("lang")], text = r[FC("formulation")];
  const box = clear($("form-contexts"));
  box.dataset.formulation = text;
  box.append(el("h3", text + " · " + r[FC("status")] + " in " + r[FC("year")]));
  box.append(el("p", "count " + r[FC("count")] + " in " + r[FC("paragraphs")] + " paragraph(s) of " + r[FC("documents")] +
    " document(s); counts by year " + r[FC("years")] + (FC("nested_in") >= 0 && r[FC("nested_in")] ? "; part of " + r[FC("nested_in")] : "") +
    (FC("compared_units") >= 0 ? "; absent from the " + r[FC("compared_units")] + " characters or words of the years compared" : ""), "note"));
  const ex = r[FC("example")] || "", a = ex.indexOf(text);
  const li = el("li");
  li.append(a >= 0 ? highlighted(ex, a, a + text.length) : el("span", ex), el("span", (r[FC("example_doc")] || ""), "src"));
  const ul = el("ul", null, "sentences");
  ul.append(li);
  box.append(ul);
  const T = D.terms[lang];
  const hits = T ? resolve(T, text) : [];
  const exact = hits.filter((i) => (T.display ? T.display[i] : T.terms[i]) === (T.display ? text.replace(/ /g, "") : text.toLowerCase()));
  const go = el("button", exact.length ? "Its counts and sentences in every year (Any term)" : "Search it in Any term");
  go.type = "button";
  go.addEventListener("click", () => searchTerm(lang, text));
  box.append(go);
  if (!exact.length) box.append(el("span", " Not a counted term as a whole (longer than the counted n-grams, or cut differently by the segmenter): the search lists the terms that contain it.", "note"));
}
function searchTerm(lang, text) {
  $("term-lang").value = lang;
  $("term-query").value = text;
  show("terms");
  termSuggest();
}

// ---- Drift and documents ------------------------------------------------------------------
function objects(block) { return block.rows.map((r) => { const o = {}; block.cols.forEach((c, i) => { o[c] = r[i]; }); return o; }); }
function drawDrift() {
  const drift = objects(D.drift).map((d) => Object.assign(d, { step: d.year_from + "→" + d.year_to }));
  const base = [];
  drift.forEach((d) => {
    [["baseline_cosine_from", d.year_from], ["baseline_cosine_to", d.year_to]].forEach(([k, y]) => {
      if (d[k] !== null) base.push({ lang: d.lang, step: d.step, year: y, baseline: d[k] });
    });
  });
  const panels = D.meta.languages.filter((l) => drift.some((d) => d.lang === l)).map((lang) => {
    const steps = drift.filter((d) => d.lang === lang).map((d) => d.step);
    const x = { field: "step", type: "ordinal", title: null, sort: steps, axis: { labelAngle: 0 } };
    return { title: langName(lang), width: Math.max(160, 70 * steps.length), height: 180, layer: [
      { data: { values: base.filter((d) => d.lang === lang) }, mark: { type: "tick", color: "#888", thickness: 2 },
        encoding: { x: x, y: { field: "baseline", type: "quantitative" },
          tooltip: [{ field: "year", format: "d", title: "split-half baseline of" }, { field: "baseline", format: ".3f" }] } },
      { data: { values: drift.filter((d) => d.lang === lang) }, mark: { type: "point", size: 80, filled: true },
        encoding: { x: x, y: { field: "cosine_distance", type: "quantitative", title: "cosine distance", scale: { domain: [0, 1] } },
          fill: { condition: { test: "datum.low_data", value: "white" }, value: "#4c78a8" }, stroke: { value: "#4c78a8" },
          tooltip: [{ field: "step" }, { field: "cosine_distance", format: ".3f" }, { field: "jsd", format: ".3f" },
            { field: "excess_cosine", format: ".3f" }, { field: "p_cosine", format: ".3f" }, { field: "note" }] } },
    ] };
  });
  if (panels.length) chart("drift", $("drift-chart"), { hconcat: panels });
  const dcols = ["lang", "year_from", "year_to", "cosine_distance", "jsd", "baseline_cosine_from", "baseline_cosine_to",
    "halves_cosine", "excess_cosine", "p_cosine", "low_data", "genre_match", "note"].filter((c) => D.drift.cols.includes(c));
  clear($("drift-table")).append(table(dcols, D.drift.rows.map((r) => dcols.map((c) => r[D.drift.cols.indexOf(c)])), { cls: numCls }));
  clear($("doc-table")).append(table(D.docs.cols, D.docs.rows, { cls: numCls }));
  const A = D.align;
  options($("align-doc"), A.bilingual_docs);
  drawAligned();
}
function drawAligned() {
  const A = D.align, doc = $("align-doc").value, box = clear($("align-table"));
  if (!doc) { box.append(el("p", "No bilingual document.", "empty")); return; }
  if (A.full_docs.indexOf(doc) < 0) {
    box.append(el("p", "Not included (explorer.aligned_documents = " + D.meta.settings.aligned_documents +
      " of " + A.bilingual_docs.length + " bilingual documents); see crosslingual_alignment.csv.", "empty"));
    return;
  }
  const a = A.langs[0], b = A.langs[1];
  const rows = A.rows.filter((r) => r[0] === doc);
  box.append(table(["pair", a + "_paras", a + "_text", b + "_paras", b + "_text", "cost"],
    rows.map((r) => [r[1], r[2], r[4], r[3], r[5], r[6]]),
    { cls: (c) => (c.endsWith("_text") ? "text" : numCls(c)), digits: 2,
      titles: { [a + "_text"]: langName(a), [b + "_text"]: langName(b) } }));
}

// ---- start --------------------------------------------------------------------------------
let driftDrawn = false;
function show(view) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.view === view));
  document.querySelectorAll("main > section").forEach((s) => { s.hidden = s.id !== "view-" + view; });
  if (view === "drift" && !driftDrawn) { driftDrawn = true; drawDrift(); }
}
function start() {
  const L = D.meta.languages;
  options($("theme-lang"), ["all"].concat(L), ["both"].concat(L.map(langName)));
  options($("phrase-lang"), L, L.map(langName));
  options($("term-lang"), ["auto"].concat(L), ["by script"].concat(L.map(langName)));
  $("theme-lang").addEventListener("change", drawThemes);
  $("phrase-lang").addEventListener("change", fillPhraseSteps);
  $("phrase-step").addEventListener("change", drawPhrases);
  $("term-lang").addEventListener("change", termSuggest);
  $("term-query").addEventListener("input", termSuggest);
  $("align-doc").addEventListener("change", drawAligned);
  const FL = L.filter((l) => F.rows.some((r) => r[FC("lang")] === l));
  options($("form-lang"), FL, FL.map(langName));
  $("form-lang").addEventListener("change", fillFormulationYears);
  $("form-year").addEventListener("change", drawFormulations);
  if (FL.length) fillFormulationYears(); else $("form-new").append(el("p", "No new formulations (new_formulations.csv is empty).", "empty"));
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => show(b.dataset.view)));
  const S = D.meta.settings;
  $("meta").textContent = D.docs.rows.length + " documents · codebook " + D.meta.codebook + " · low data: fewer than " +
    D.meta.low_data_tokens + " kept tokens · intervals at " + D.meta.conf_level +
    (D.meta.made_by ? " · made by " + D.meta.made_by : "");
  $("about").textContent = "Every number comes from results/tables/ (terms: the year matrices, with an exact Poisson interval) and was computed by the workflow; this page only draws and filters. " +
    "Caps (config explorer): " + S.contexts_per_cell + " matches per theme, language and year; " + S.term_contexts +
    " sentences per term and year, and " + S.phrase_contexts + " per phrase and year of its step; " + (S.max_terms ? "the " + S.max_terms + " most frequent terms" : "every term") + " per language with at least " + S.min_term_count +
    " occurrences; " + S.phrases_per_step + " phrases per side of a step; aligned paragraphs of " + S.aligned_documents + " bilingual documents.";
  drawThemes().then(() => { document.body.dataset.ready = "1"; });
  fillPhraseSteps();
}
inflateTerms().then(start, (err) => {
  $("meta").textContent = "This browser could not read the page's term index (" + err + "); a browser from 2023 or later can.";
});
