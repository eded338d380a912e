/* saygac: staff task pages. Keeps the claim's lease alive while the page is open, and lets the
   operator zoom and rotate a meter photo. Everything is wired from data- attributes. */
(function () {
  "use strict";
  function renewLease(panel) {
    var url = panel.getAttribute("data-lease-url");
    var token = panel.getAttribute("data-csrf");
    var every = Math.max(30, parseInt(panel.getAttribute("data-lease-seconds"), 10) / 2 || 900) * 1000;
    var timer = window.setInterval(function () {
      fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token } })
        .then(function (response) {
          if (response.status !== 200) {
            window.clearInterval(timer);
            return response.json().then(function (body) {
              var notice = panel.querySelector("[data-lease-lost]");
              if (notice) { notice.textContent = body.message || ""; notice.hidden = false; }
            });
          }
          panel.setAttribute("data-renewed", String(Date.now()));
        })
        .catch(function () { /* offline for a moment: the next tick tries again */ });
    }, every);
  }
  function photoViewer(box) {
    var img = box.querySelector("img");
    var zoom = 1;
    var turn = 0;
    function apply() {
      img.style.transform = "scale(" + zoom + ") rotate(" + turn + "deg)";
      box.setAttribute("data-zoom", String(zoom));
      box.setAttribute("data-rotation", String(turn));
    }
    box.addEventListener("click", function (event) {
      var action = event.target.getAttribute && event.target.getAttribute("data-photo-action");
      if (!action) { return; }
      if (action === "zoom-in") { zoom = Math.min(4, zoom + 0.5); }
      if (action === "zoom-out") { zoom = Math.max(1, zoom - 0.5); }
      if (action === "rotate") { turn = (turn + 90) % 360; }
      if (action === "reset") { zoom = 1; turn = 0; }
      apply();
    });
    var controls = box.querySelector("[data-photo-controls]");
    if (controls) { controls.hidden = false; }
  }
  document.addEventListener("DOMContentLoaded", function () {
    var panels = document.querySelectorAll("[data-lease-url]");
    for (var i = 0; i < panels.length; i++) { renewLease(panels[i]); }
    var boxes = document.querySelectorAll("[data-photo-viewer]");
    for (var j = 0; j < boxes.length; j++) { photoViewer(boxes[j]); }
  });
}());
