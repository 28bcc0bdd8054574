// Progressive enhancement for the console; every page works without it.
// - Regions with data-live (dashboard numbers, wave progress) refresh in place every few seconds.
// - The template editor re-renders its preview as the organizer types (debounced), by posting
//   the same form the "Preview" button posts, and asking for the preview fragment only.
(function () {
  "use strict";
  if (!window.fetch) { return; }

  Array.prototype.forEach.call(document.querySelectorAll("[data-live]"), function (box) {
    var every = 5000;
    function refresh() {
      if (document.hidden) { return; }
      fetch(box.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (r) { if (!r.ok || r.redirected) { throw new Error(r.status); } return r.text(); })
        .then(function (html) { every = 5000; box.innerHTML = html; })
        .catch(function () { every = Math.min(every * 2, 60000); });
    }
    (function loop() { setTimeout(function () { refresh(); loop(); }, every); })();
  });

  var form = document.getElementById("template-form");
  var preview = document.getElementById("preview");
  if (!form || !preview || !window.FormData) { return; }
  var timer = null;
  var sent = 0;
  function render() {
    var mine = ++sent;
    preview.setAttribute("aria-busy", "true");
    fetch(form.dataset.preview, {
      method: "POST", credentials: "same-origin", body: new FormData(form),
      headers: { "Accept": "text/html", "X-Preview-Fragment": "1" }
    })
      // 422: the drafts have problems; the fragment shows them at their fields.
      .then(function (r) {
        if ((!r.ok && r.status !== 422) || r.redirected) { throw new Error(r.status); }
        return r.text();
      })
      .then(function (html) { if (mine === sent) { preview.innerHTML = html; } })
      .catch(function () { /* the Preview button still works */ })
      .then(function () { if (mine === sent) { preview.removeAttribute("aria-busy"); } });
  }
  function soon() { clearTimeout(timer); timer = setTimeout(render, 300); }
  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
})();
