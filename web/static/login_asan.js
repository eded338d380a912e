/* Asan İmza wait page: asks the server every few seconds whether the phone has answered, and
   posts the finish form when it has (confirmed, declined or expired). Without script the
   "I have confirmed" button does the same. */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var status = document.getElementById("asan-status");
    var form = document.getElementById("asan-finish");
    if (!status || !form || !window.fetch) { return; }
    var url = status.getAttribute("data-status-url");
    var every = Math.max(1, parseInt(status.getAttribute("data-poll-seconds"), 10) || 3) * 1000;
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (data.state && data.state !== "pending") { form.submit(); } else { window.setTimeout(poll, every); }
        })
        .catch(function () { window.setTimeout(poll, every * 2); });
    }
    window.setTimeout(poll, every);
  });
}());
