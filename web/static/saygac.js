/* saygac: the only script. Moves focus to the error summary, and from its links to the fields. */
(function () {
  "use strict";
  function focusField(event) {
    var id = (this.getAttribute("href") || "").slice(1);
    var target = id && document.getElementById(id);
    if (!target) { return; }
    event.preventDefault();
    target.scrollIntoView();
    target.focus({ preventScroll: true });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) { return; }
    summary.focus();
    var links = summary.querySelectorAll("a[href^='#']");
    for (var i = 0; i < links.length; i++) { links[i].addEventListener("click", focusField); }
  });
}());
