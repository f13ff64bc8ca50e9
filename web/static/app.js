// The web front's little JavaScript: it calls the JSON API with the session cookie and, for unsafe
// requests, the CSRF header (the dc_csrf cookie's value). Nothing is loaded from anywhere else.
"use strict";

function csrf() {
  const m = document.cookie.match(/(?:^|; )dc_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

async function api(method, url, body) {
  const headers = {"Accept": "application/json"};
  if (method !== "GET") headers["X-CSRF-Token"] = csrf();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body)});
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && data.error) || response.statusText);
  return data;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

function say(text, bad) {
  const box = document.getElementById("message");
  box.textContent = text;
  box.className = bad ? "error" : "notice";
}

function fmt(x) {
  if (Array.isArray(x)) return "[" + x.map(fmt).join(", ") + "]";
  return typeof x === "number" ? (Number.isInteger(x) ? String(x) : x.toFixed(2)) : String(x);
}

// --- query builder --------------------------------------------------------------------------------

function buildQuery(form) {
  const measures = [];
  for (const box of form.querySelectorAll("input[name=measure]:checked")) {
    if (box.value === "count" || box.value === "rows") { measures.push({op: box.value}); continue; }
    const [op, column] = box.value.split(":");
    measures.push({op, column, bounds: [Number(box.dataset.min), Number(box.dataset.max)]});
  }
  return {
    purpose: form.purpose.value,
    group_by: [...form.querySelectorAll("input[name=group_by]:checked")].map((b) => b.value),
    measures,
    epsilon: Number(form.epsilon.value),
  };
}

function showBudget(texts, budget) {
  const section = document.getElementById("budget-out");
  const list = section.querySelector("dl");
  list.replaceChildren();
  for (const key of ["dataset_total", "organisation", "per_query"]) {
    const b = budget[key];
    list.append(el("dt", {}, texts[key]),
      el("dd", {"data-budget": key}, `${fmt(b.remaining)} ${texts.left} ${texts.of} ${fmt(b.limit)}`));
  }
  section.hidden = false;
}

function showPreview(texts, preview) {
  const body = document.querySelector("#preview-out tbody");
  body.replaceChildren();
  // one line per measure, with the precision of the measure itself (a mean's depends on how many
  // records a cell holds: shown for 10, 100 and 1000)
  for (const m of preview.measures) {
    let precision = m.ci_halfwidth == null ? "—" : "± " + fmt(m.ci_halfwidth);
    if (m.ci_halfwidth_by_records) {
      precision = Object.entries(m.ci_halfwidth_by_records)
        .map(([n, h]) => `${h == null ? "—" : "± " + fmt(h)} (${n} ${texts.records})`).join(", ");
    }
    const scales = m.parts.map((part) => fmt(part.scale)).join(" / ");
    body.append(el("tr", {"data-measure": m.name}, el("td", {}, m.name), el("td", {}, fmt(m.epsilon)),
      el("td", {}, scales), el("td", {}, precision)));
  }
  document.getElementById("preview-out").hidden = false;
  showBudget(texts, preview.budget);
}

function barChart(rows, label, value) {
  const ns = "http://www.w3.org/2000/svg";
  const width = 640, bar = 22, gap = 6, left = 180;
  const height = rows.length * (bar + gap) + 10;
  const max = Math.max(1, ...rows.map((r) => Math.abs(Number(r[value]) || 0)));
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", value);
  rows.forEach((r, i) => {
    const y = 5 + i * (bar + gap);
    const w = Math.max(1, (width - left - 60) * Math.max(0, Number(r[value]) || 0) / max);
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", left - 6); text.setAttribute("y", y + bar * 0.7);
    text.setAttribute("text-anchor", "end"); text.textContent = label(r);
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", left); rect.setAttribute("y", y);
    rect.setAttribute("width", w); rect.setAttribute("height", bar);
    const num = document.createElementNS(ns, "text");
    num.setAttribute("x", left + w + 4); num.setAttribute("y", y + bar * 0.7);
    num.textContent = fmt(Number(r[value]));
    svg.append(text, rect, num);
  });
  return svg;
}

function showResult(texts, answer) {
  const section = document.getElementById("result-out");
  // the raw (unbiased, possibly negative) values are for re-aggregation: in the API and extracts
  const columns = (answer.rows.length ? Object.keys(answer.rows[0]) : [...answer.group_by])
    .filter((c) => !c.endsWith("_raw"));
  section.querySelector("thead").replaceChildren(
    el("tr", {}, ...columns.map((c) => el("th", {scope: "col"}, c))));
  section.querySelector("tbody").replaceChildren(...answer.rows.map(
    (r) => el("tr", {}, ...columns.map((c) => el("td", {}, r[c] == null ? "—" : fmt(r[c]))))));
  const value = answer.measures[0].name;
  const label = (r) => answer.group_by.map((g) => r[g]).join(" · ") || texts.count;
  document.getElementById("chart").replaceChildren(barChart(answer.rows.slice(0, 40), label, value));
  section.hidden = false;
  showBudget(texts, answer.budget);
}

function setUpQuery(form) {
  const texts = JSON.parse(document.getElementById("texts").textContent);
  const dataset = form.dataset.dataset;
  const guard = (fn) => async () => {
    try { await fn(); } catch (err) { say(err.message, true); }
  };
  document.getElementById("preview").addEventListener("click", guard(async () => {
    const preview = await api("POST", `/api/v1/datasets/${dataset}/queries/preview`, buildQuery(form));
    showPreview(texts, preview);
    say(preview.affordable ? `ε ${fmt(preview.epsilon)}` : texts.affordable_no, !preview.affordable);
  }));
  document.getElementById("run").addEventListener("click", guard(async () => {
    const answer = await api("POST", `/api/v1/datasets/${dataset}/queries`, buildQuery(form));
    showResult(texts, answer);
    say(`${texts.spent}: ε ${fmt(answer.epsilon_spent)}${answer.repeat ? " — " + texts.repeat : ""}`);
  }));
  const extract = document.getElementById("extract");
  if (extract) extract.addEventListener("click", guard(async () => {
    const q = buildQuery(form);
    const answer = await api("POST", "/api/v1/extracts", {dataset, purpose: q.purpose, epsilon: q.epsilon,
      tables: [{name: "table_1", group_by: q.group_by, measures: q.measures}]});
    const out = document.querySelector("#extract-out p");
    out.replaceChildren(texts.ready + " ",
      el("a", {href: `/api/v1/extracts/${answer.release_id}/download?format=csv`, download: "", id: "extract-csv"}, "CSV (ZIP)"), " · ",
      el("a", {href: `/api/v1/extracts/${answer.release_id}/download?format=parquet`, download: "", id: "extract-parquet"}, "Parquet (ZIP)"));
    document.getElementById("extract-out").hidden = false;
    showBudget(texts, answer.budget);
    say(`${texts.spent}: ε ${fmt(answer.epsilon_spent)}`);
  }));
}

// --- donor portal and administration: buttons that call the API, then reload the page -----------

function saveFile(name, text) {
  const link = el("a", {href: URL.createObjectURL(new Blob([text], {type: "application/json"})), download: name});
  document.body.append(link);
  link.click();
  link.remove();
}

function setUpActions() {
  for (const button of document.querySelectorAll("button[data-api]")) {
    button.addEventListener("click", async () => {
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      try {
        const body = button.dataset.body ? JSON.parse(button.dataset.body) : undefined;
        const answer = await api(button.dataset.method || "POST", button.dataset.api, body);
        // an erasure's withdrawal receipts: the token stops working, so they are saved now
        if (button.dataset.saveAs && answer) saveFile(button.dataset.saveAs, JSON.stringify(answer, null, 2));
        window.location.assign(button.dataset.then || window.location.href);
      } catch (err) { say(err.message, true); }
    });
  }
  for (const button of document.querySelectorAll("button[data-receipt]")) {
    button.addEventListener("click", async () => {
      try {
        const answer = await api("GET", button.dataset.receipt);
        const link = el("a", {href: URL.createObjectURL(new Blob([answer.receipt], {type: "application/jose"})),
          download: `receipt-${answer.consent_id}.jws`});
        document.body.append(link);
        link.click();
        link.remove();
      } catch (err) { say(err.message, true); }
    });
  }
}

// --- catalog: the facets are collapsed on a phone (results first) and open beside them on a wide screen

function openWhenWide() {
  const wide = window.matchMedia("(min-width: 761px)");
  const apply = () => {
    for (const box of document.querySelectorAll("details[data-open-wide]")) box.open = wide.matches;
  };
  apply();
  wide.addEventListener("change", apply);  // a phone turned sideways, a window made wider
}

document.addEventListener("DOMContentLoaded", () => {
  openWhenWide();
  const form = document.getElementById("query");
  if (form) setUpQuery(form);
  setUpActions();
});
