/* saygac: the only script. Moves focus to the error summary, and from its links to the fields;
   adds and removes meter blocks of the readings form without a reload (the buttons also work
   without this script, through the server). */
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

  function renumber(container) {
    var blocks = container.querySelectorAll("[data-meter-block]");
    for (var i = 0; i < blocks.length; i++) {
      var numbers = blocks[i].querySelectorAll("[data-meter-number]");
      for (var j = 0; j < numbers.length; j++) { numbers[j].textContent = String(i + 1); }
      var remove = blocks[i].querySelector("[data-remove-meter]");
      if (remove) { remove.hidden = blocks.length < 2; }
    }
  }

  function nextIndex(container) {
    var max = -1;
    var blocks = container.querySelectorAll("[data-meter-block]");
    for (var i = 0; i < blocks.length; i++) {
      var m = /^meters-(\d+)$/.exec(blocks[i].id);
      if (m) { max = Math.max(max, parseInt(m[1], 10)); }
    }
    return max + 1;
  }

  function setUpMeterBlocks() {
    var template = document.getElementById("meter-block-template");
    var container = document.querySelector("[data-meter-blocks]");
    var add = document.querySelector("[data-add-meter]");
    if (!template || !container || !add) { return; }
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var index = String(nextIndex(container));
      var html = template.innerHTML.replace(/__i__/g, index);
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var block = holder.querySelector("[data-meter-block]");
      block.classList.add("meter-block");
      container.appendChild(block);
      renumber(container);
      var first = block.querySelector("input[type=text]");
      if (first) { first.focus(); }
    });
    container.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-meter]");
      if (!button) { return; }
      event.preventDefault();
      var blocks = container.querySelectorAll("[data-meter-block]");
      if (blocks.length < 2) { return; }
      var block = button.closest("[data-meter-block]");
      var previous = block.previousElementSibling || block.nextElementSibling;
      block.parentNode.removeChild(block);
      renumber(container);
      var legend = previous && previous.querySelector("input");
      if (legend) { legend.focus(); }
    });
    renumber(container);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMeterBlocks();
    var focusTarget = document.querySelector("form[data-focus]");
    if (focusTarget) {
      var field = document.getElementById(focusTarget.getAttribute("data-focus"));
      if (field) { field.focus(); }
    }
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) { return; }
    summary.focus();
    var links = summary.querySelectorAll("a[href^='#']");
    for (var i = 0; i < links.length; i++) { links[i].addEventListener("click", focusField); }
  });
}());
