/* saygac: the analytics page. Draws the diagram with bpmn-js (the navigated viewer from vendor/),
   puts an overlay with the figures on every step that has them (colour class from the median
   waiting time, numbers always written out), highlights a path on request, and turns every
   table marked by a canvas's data-table into a Chart.js chart. No inline script or style. */
(function () {
  "use strict";
  var PATH_MARKER = "path-on";

  function text(tag, className, value) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    el.textContent = value;
    return el;
  }

  function overlay(id, node, labels) {
    var box = document.createElement("a");
    box.className = "heat-overlay heat-" + node.level;
    box.href = node.url;
    box.setAttribute("data-node", id);
    box.appendChild(text("span", "visually-hidden", node.title + ": "));
    box.appendChild(text("span", "heat-overlay__line", labels.passed + ": " + node.passed));
    box.appendChild(text("span", "heat-overlay__line", labels.waiting + ": " + node.wait_text));
    box.appendChild(text("span", "heat-overlay__line", labels.sla + ": " + node.sla_text));
    if (node.open) { box.appendChild(text("span", "heat-overlay__line", labels.open + ": " + node.open)); }
    return box;
  }

  function showHeat(container, data) {
    var viewer = new window.BpmnJS({ container: container });
    return viewer.importXML(data.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      var overlays = viewer.get("overlays");
      canvas.zoom("fit-viewport");
      Object.keys(data.nodes).forEach(function (id) {
        if (!registry.get(id)) { return; }
        var node = data.nodes[id];
        canvas.addMarker(id, "heat-" + node.level);
        overlays.add(id, "heat", { position: { bottom: 0, left: -10 }, html: overlay(id, node, data.labels) });
      });
      container.setAttribute("data-ready", "true");
      wirePaths(canvas, registry);
    });
  }

  function wirePaths(canvas, registry) {
    var buttons = Array.prototype.slice.call(document.querySelectorAll("[data-path-nodes]"));
    var lit = [];
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        var on = button.getAttribute("aria-pressed") !== "true";
        lit.forEach(function (id) { canvas.removeMarker(id, PATH_MARKER); });
        lit = [];
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", "false"); });
        if (!on) { return; }
        button.setAttribute("aria-pressed", "true");
        button.getAttribute("data-path-nodes").split(" ").forEach(function (id) {
          if (id && registry.get(id)) { canvas.addMarker(id, PATH_MARKER); lit.push(id); }
        });
      });
    });
  }

  function cellValue(cell) {
    var raw = cell.getAttribute("data-value") || cell.textContent;
    return parseFloat(raw);
  }

  var COLOURS = ["#1d70b8", "#d4351c", "#00703c", "#f47738", "#4c2c92", "#85994b", "#b58840", "#505a5f"];

  function drawChart(canvas) {
    var table = document.getElementById(canvas.getAttribute("data-table"));
    if (!table || !window.Chart) { return; }
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th")).map(function (th) { return th.textContent; });
    var rows = Array.prototype.slice.call(table.querySelectorAll("tbody tr"));
    var kind = canvas.getAttribute("data-chart");
    var series = kind === "line" ? heads.length - 1 : 1;
    var datasets = [];
    for (var s = 0; s < series; s += 1) {
      datasets.push({
        label: heads[s + 1],
        data: rows.map(function (row) { return cellValue(row.children[s + 1]); }),
        backgroundColor: COLOURS[s % COLOURS.length],
        borderColor: COLOURS[s % COLOURS.length]
      });
    }
    new window.Chart(canvas, {
      type: kind,
      data: { labels: rows.map(function (row) { return row.children[0].textContent; }), datasets: datasets },
      options: { animation: false, responsive: true, maintainAspectRatio: false,
                 plugins: { legend: { display: series > 1 } }, scales: { y: { beginAtZero: true } } }
    });
    canvas.setAttribute("data-drawn", "true");
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), drawChart);
    var container = document.getElementById("heat-diagram");
    if (!container || !window.BpmnJS) { return; }
    fetch(container.getAttribute("data-heat-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) { return showHeat(container, data); })
      .catch(function (err) { container.setAttribute("data-error", String(err && err.message || err)); });
  });
}());
