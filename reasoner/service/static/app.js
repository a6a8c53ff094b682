// The web UI's only script: load a case file or the example into the form, and run SPARQL.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("case-text");
  const type = document.getElementById("case-type");
  const kinds = { yaml: "yaml", yml: "yaml", json: "json", jsonld: "jsonld", ttl: "turtle" };
  const file = document.getElementById("case-file");
  if (file) file.addEventListener("change", () => {
    const chosen = file.files[0];
    if (!chosen) return;
    const ext = chosen.name.split(".").pop().toLowerCase();
    if (kinds[ext]) type.value = kinds[ext];
    chosen.text().then((content) => { text.value = content; });
  });
  const example = document.getElementById("load-example");
  if (example) example.addEventListener("click", () => {
    fetch("/ui/example").then((r) => r.text()).then((content) => { text.value = content; type.value = "yaml"; });
  });
  const run = document.getElementById("sparql-run");
  if (run) run.addEventListener("click", () => {
    const out = document.getElementById("sparql-result");
    const body = new URLSearchParams({ query: document.getElementById("sparql-text").value });
    out.textContent = "running…";
    fetch("/sparql", { method: "POST", body, headers: { Accept: "application/sparql-results+json" } })
      .then((r) => r.json().then((data) => ({ ok: r.ok, data })))
      .then(({ ok, data }) => {
        out.textContent = "";
        if (!ok) { out.textContent = (data.problems || []).map((p) => p.message).join("; ") || "error"; out.className = "problems"; return; }
        out.className = "";
        if ("boolean" in data) { out.textContent = String(data.boolean); return; }
        const table = document.createElement("table");
        table.className = "grid"; table.id = "sparql-table";
        const head = table.createTHead().insertRow();
        data.head.vars.forEach((v) => { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); });
        const body = table.createTBody();
        data.results.bindings.forEach((b) => {
          const row = body.insertRow();
          data.head.vars.forEach((v) => { row.insertCell().textContent = b[v] ? b[v].value : ""; });
        });
        out.appendChild(table);
      });
  });
});
