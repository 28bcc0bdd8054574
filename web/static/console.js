// Refresh the dashboard's numbers in place every few seconds; without JS the page still works.
(function () {
  "use strict";
  var box = document.getElementById("numbers");
  if (!box || !window.fetch) { return; }
  var every = 5000;
  function refresh() {
    if (document.hidden) { return; }
    fetch(box.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok || r.redirected) { throw new Error(r.status); } return r.text(); })
      .then(function (html) { box.innerHTML = html; })
      .catch(function () { every = Math.min(every * 2, 60000); });
  }
  (function loop() { setTimeout(function () { refresh(); loop(); }, every); })();
})();
