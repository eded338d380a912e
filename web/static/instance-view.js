/* saygac: the staff's instance view. Draws the instance's own diagram version with bpmn-js
   (BpmnJS, the navigated viewer served from vendor/) and marks the steps done and the current one.
   The data comes from the JSON endpoint named by data-progress-url: no inline script or style. */
(function () {
  "use strict";
  function mark(canvas, registry, ids, marker) {
    ids.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }
  function show(container, data) {
    var viewer = new window.BpmnJS({ container: container });
    return viewer.importXML(data.xml).then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport");
      mark(canvas, registry, data.completed, "step-done");
      mark(canvas, registry, data.current, "step-current");
      container.setAttribute("data-ready", "true");
      container.setAttribute("data-current", data.current.join(" "));
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var container = document.getElementById("diagram");
    if (!container || !window.BpmnJS) { return; }
    fetch(container.getAttribute("data-progress-url"), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) { return show(container, data); })
      .catch(function (err) {
        container.setAttribute("data-error", String(err && err.message || err));
      });
  });
}());
