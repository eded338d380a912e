// The analyst studio: bpmn-js modeler with a properties panel and bpmnlint, dmn-js for decision
// tables, validation results on the diagram, scenario results, deploy; the diff colours and the
// bulk migration with a progress bar. Data comes from data- attributes and JSON endpoints (CSP).
import BpmnModeler from "bpmn-js/lib/Modeler";
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";
import DmnModeler from "dmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import lintModule from "bpmn-js-bpmnlint";
import spiffModdle from "./studio/moddle.json";
import saygacProps from "./studio/props.js";
import { lintConfig, translateModule } from "./studio/lint.js";
import "./studio/studio.css";

const moddleExtensions = { spiffworkflow: spiffModdle };

async function api(url, method, csrf, body) {
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = {};
  try { data = await response.json(); } catch (e) { data = { error: response.statusText }; }
  return { ok: response.ok, data };
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
  if (text !== undefined) node.textContent = text;
  return node;
}

class Studio {
  constructor(root) {
    this.root = root;
    this.d = root.dataset;
    this.readonly = this.d.readonly === "true";
    this.editors = {};   // file name -> { kind, modeler, container, panel, dirty }
    this.original = {};  // file name -> text as loaded
    this.status = root.querySelector("[data-status]");
  }

  say(text) { this.status.textContent = text; }

  async start() {
    const { data } = await api(this.d.sourceUrl, "GET", this.d.csrf);
    this.original = data.files;
    const scenarios = this.root.querySelector("[data-scenarios]");
    if (scenarios) scenarios.value = JSON.stringify(data.scenarios, null, 2);
    const canvasHost = this.root.querySelector("[data-canvas]");
    const panelHost = this.root.querySelector("[data-properties]");
    for (const name of Object.keys(data.files).sort()) {
      const container = el("div", { class: "studio-editor", "data-editor": name });
      canvasHost.appendChild(container);
      if (name.endsWith(".bpmn")) {
        const panel = el("div", { class: "studio-panel", "data-panel": name });
        panelHost.appendChild(panel);
        const modeler = this.readonly
          ? new NavigatedViewer({ container, moddleExtensions })
          : new BpmnModeler({
            container, moddleExtensions,
            propertiesPanel: { parent: panel, layout: { groups: { saygac: { open: true }, general: { open: false } } } },
            additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, saygacProps, lintModule,
              translateModule(JSON.parse(this.d.lintTexts || "{}"))],
            linting: { bpmnlint: lintConfig, active: true },
          });
        const editor = { kind: "bpmn", modeler, container, panel, dirty: false };
        this.editors[name] = editor;
        await modeler.importXML(data.files[name]);
        modeler.get("canvas").zoom("fit-viewport");
        if (!this.readonly) modeler.on("commandStack.changed", () => { editor.dirty = true; });
      } else {
        const modeler = new DmnModeler({ container, common: { keyboard: { bindTo: null } } });
        const editor = { kind: "dmn", modeler, container, dirty: false };
        this.editors[name] = editor;
        await modeler.importXML(data.files[name]);
        const table = modeler.getViews().find((v) => v.type === "decisionTable");
        if (table) await modeler.open(table);
        const viewer = modeler.getActiveViewer();
        if (viewer && !this.readonly) viewer.get("eventBus").on("commandStack.changed", () => { editor.dirty = true; });
      }
    }
    this.root.querySelectorAll("[data-file]").forEach((tab) => tab.addEventListener("click", () => this.show(tab.dataset.file)));
    const first = this.root.querySelector("[data-file]");
    if (first) this.show(first.dataset.file);
    this.root.querySelectorAll("[data-action]").forEach((b) => b.addEventListener("click", () => this[b.dataset.action]()));
    window.saygacStudio = this;
    this.root.setAttribute("data-ready", "true");
  }

  show(name) {
    for (const [file, editor] of Object.entries(this.editors)) {
      editor.container.hidden = file !== name;
      if (editor.panel) editor.panel.hidden = file !== name;
    }
    this.root.querySelectorAll("[data-file]").forEach((t) => t.setAttribute("aria-selected", t.dataset.file === name ? "true" : "false"));
    const editor = this.editors[name];
    if (editor && editor.kind === "bpmn") editor.modeler.get("canvas").resized();
  }

  async files() {
    const out = {};
    for (const [name, editor] of Object.entries(this.editors)) {
      out[name] = editor.dirty ? (await editor.modeler.saveXML({ format: true })).xml : this.original[name];
    }
    return out;
  }

  async save() {
    const box = this.root.querySelector("[data-scenarios]");
    let scenarios;
    try { scenarios = JSON.parse(box.value || "[]"); } catch (e) { this.say(this.d.msgScenariosJson); return false; }
    if (scenarios && !Array.isArray(scenarios)) scenarios = scenarios.scenarios;
    this.say(this.d.msgWorking);
    const { ok, data } = await api(this.d.saveUrl, "PUT", this.d.csrf, { files: await this.files(), scenarios });
    this.say(ok ? this.d.msgSaved : data.error);
    if (!ok && data.problems) this.showProblems(data.problems);
    return ok;
  }

  async check() {
    if (!(await this.save())) return false;
    this.say(this.d.msgWorking);
    const { ok, data } = await api(this.d.checkUrl, "POST", this.d.csrf, {});
    if (!ok) { this.say(data.error); return false; }
    this.showProblems(data.problems);
    this.showResults(data.results);
    this.say(data.problems.length ? this.d.msgProblems : this.d.msgNoProblems);
    return data.ok;
  }

  async deploy() {
    const reason = this.root.querySelector("#deploy-reason").value.trim();
    if (!(await this.check())) return;
    const { ok, data } = await api(this.d.deployUrl, "POST", this.d.csrf, { reason });
    if (ok) { window.location.assign(data.redirect); return; }
    this.say(data.error);
    if (data.problems) this.showProblems(data.problems);
  }

  clearMarkers() {
    for (const editor of Object.values(this.editors)) {
      if (editor.kind !== "bpmn") continue;
      const canvas = editor.modeler.get("canvas");
      editor.modeler.get("elementRegistry").getAll().forEach((e) => canvas.removeMarker(e.id, "studio-problem"));
      editor.modeler.get("overlays").remove({ type: "studio-problem" });
    }
  }

  showProblems(problems) {
    this.clearMarkers();
    const list = this.root.querySelector("[data-problems]");
    list.replaceChildren();
    if (!problems.length) list.appendChild(el("li", {}, this.d.msgNoProblems));
    for (const p of problems) {
      const item = el("li", { class: "studio-problem-item", "data-problem": p.element_id || "" });
      const where = [p.file, p.element_id].filter(Boolean).join(" › ");
      item.appendChild(el("strong", {}, where ? `${where}: ` : ""));
      item.appendChild(document.createTextNode(p.message));
      list.appendChild(item);
      for (const [name, editor] of Object.entries(this.editors)) {
        if (editor.kind !== "bpmn" || !p.element_id) continue;
        const shape = editor.modeler.get("elementRegistry").get(p.element_id);
        if (!shape) continue;
        editor.modeler.get("canvas").addMarker(p.element_id, "studio-problem");
        const badge = el("div", { class: "studio-badge", title: p.message }, "!");
        try { editor.modeler.get("overlays").add(p.element_id, "studio-problem", { position: { top: -10, right: 10 }, html: badge }); } catch (e) { /* connections */ }
        item.addEventListener("click", () => {
          this.show(name);
          editor.modeler.get("canvas").scrollToElement(shape);
          if (editor.modeler.get("selection")) editor.modeler.get("selection").select(shape);
        });
      }
    }
  }

  showResults(results) {
    const list = this.root.querySelector("[data-results]");
    list.replaceChildren();
    for (const r of results) {
      const item = el("li", { "data-scenario": r.name, "data-passed": String(r.passed) });
      item.appendChild(el("span", { class: `tag ${r.passed ? "" : "tag--warning"}` }, r.passed ? this.d.msgPassed : this.d.msgFailed));
      item.appendChild(document.createTextNode(` ${r.name}${r.message ? ": " + r.message : ""}`));
      list.appendChild(item);
    }
  }
}

async function diffPage(root) {
  const d = root.dataset;
  const paint = async (selector, url, groups) => {
    const container = root.querySelector(selector);
    const viewer = new NavigatedViewer({ container, moddleExtensions });
    const { data } = await api(url, "GET", "");
    const name = Object.keys(data.files).find((n) => n.endsWith(".bpmn"));
    await viewer.importXML(data.files[name]);
    viewer.get("canvas").zoom("fit-viewport");
    const registry = viewer.get("elementRegistry");
    for (const [kind, ids] of Object.entries(groups)) {
      for (const id of ids.split(" ").filter(Boolean)) {
        if (registry.get(id)) viewer.get("canvas").addMarker(id, `studio-diff--${kind}`);
      }
    }
  };
  await paint("[data-diff-new]", d.newUrl, { added: d.added, changed: d.changed });
  await paint("[data-diff-old]", d.oldUrl, { removed: d.removed, changed: d.changed });
  root.setAttribute("data-ready", "true");
}

function migratePage(root) {
  const d = root.dataset;
  const button = root.querySelector("[data-action=migrate]");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const rows = [...document.querySelectorAll("tr[data-movable=true]")];
    const ids = rows.map((r) => Number(r.dataset.instance));
    const progress = root.querySelector("[data-progress]");
    let moved = 0; let failed = 0;
    for (let i = 0; i < ids.length; i += 10) {
      const batch = ids.slice(i, i + 10);
      const { ok, data } = await api(d.url, "POST", d.csrf, { source: Number(d.source), target: Number(d.target), ids: batch });
      const results = ok ? data.results : batch.map((id) => ({ id, ok: false, message: data.error }));
      for (const r of results) {
        const cell = document.querySelector(`tr[data-instance="${r.id}"] [data-result]`);
        if (cell) cell.textContent = r.ok ? d.msgMoved : r.message;
        if (r.ok) moved += 1; else failed += 1;
      }
      progress.value = Math.min(ids.length, i + batch.length);
    }
    root.querySelector("[data-report]").textContent = d.msgDone.replace("%(moved)s", moved).replace("%(failed)s", failed);
    root.setAttribute("data-finished", "true");
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const root = document.querySelector("[data-studio]");
  if (!root) return;
  const kind = root.dataset.studio;
  const run = kind === "modeler" ? new Studio(root).start() : kind === "diff" ? diffPage(root) : Promise.resolve(migratePage(root));
  run.catch((err) => {
    const status = root.querySelector("[data-status]") || root;
    status.textContent = String(err && err.message ? err.message : err);
    root.setAttribute("data-error", "true");
    console.error(err); // eslint-disable-line no-console
  });
});
