// Steps 1-3 without a page reload. The server renders every answer (one renderer, the same markup
// as without JavaScript); this script only fetches the page for the new query and swaps the step
// regions in, keeping what the supporter has typed into the step 3 form.
(function () {
  "use strict";
  var REGIONS = ["legislators", "tweets", "email-plan"];
  var lookupForm = document.querySelector("form.lookup");
  if (!lookupForm || !window.fetch || !window.DOMParser) return;

  function swap(html) {
    var fresh = new DOMParser().parseFromString(html, "text/html");
    REGIONS.forEach(function (id) {
      var now = document.getElementById(id);
      var next = fresh.getElementById(id);
      if (now && next) now.replaceWith(document.importNode(next, true));
    });
    var district = fresh.getElementById("chosen-district");
    if (district) document.getElementById("chosen-district").value = district.value;
  }

  // A new lookup is a new place: step 3 takes its ZIP (and address), and the district chosen for
  // an earlier lookup goes (swap() took the new page's, empty until one is chosen).
  function fillStep3(params) {
    ["zip", "address"].forEach(function (name) {
      var field = document.getElementById(name);
      if (field && params.get(name)) field.value = params.get(name);
    });
    if (!params.get("district")) document.getElementById("chosen-district").value = "";
  }

  function show(params) {
    var box = document.getElementById("legislators");
    var url = lookupForm.getAttribute("action") + "?" + params.toString();
    box.setAttribute("aria-busy", "true");
    return fetch(url, { headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        swap(html);
        fillStep3(params);
        history.replaceState(null, "", "?" + params.toString());
        document.querySelectorAll("a.lang-link").forEach(function (link) {
          var other = new URLSearchParams(params);  // the other language keeps this lookup
          other.set("lang", link.getAttribute("lang"));
          link.setAttribute("href", "?" + other.toString());
        });
        var result = document.getElementById("legislators");
        result.setAttribute("tabindex", "-1");
        result.focus();
      })
      .catch(function () { window.location.assign(url); })  // fall back to a plain page load
      .then(function () { document.getElementById("legislators").removeAttribute("aria-busy"); });
  }

  function paramsOf(form) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value) params.set(key, value); });
    return params;
  }

  // Switching language reloads the page (the lookup travels in its query); what was typed into
  // step 3 rides along in this tab's sessionStorage and is put back once, then forgotten.
  var KEPT = "actionwave-typed";
  var actForm = document.querySelector("form.act");
  document.querySelectorAll("a.lang-link").forEach(function (link) {
    link.addEventListener("click", function () {
      if (!actForm || !window.sessionStorage) return;
      var typed = {};
      ["prefix", "first_name", "last_name", "email", "zip", "state", "address", "city",
       "message"].forEach(function (name) {
        var field = actForm.elements[name];
        if (field && field.value) typed[name] = field.value;
      });
      sessionStorage.setItem(KEPT, JSON.stringify(typed));
    });
  });
  if (actForm && window.sessionStorage && sessionStorage.getItem(KEPT)) {
    var typed = JSON.parse(sessionStorage.getItem(KEPT));
    sessionStorage.removeItem(KEPT);
    Object.keys(typed).forEach(function (name) {
      var field = actForm.elements[name];
      if (field) field.value = typed[name];
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form === lookupForm || form.classList.contains("choose")) {
      event.preventDefault();
      show(paramsOf(form));
    }
  });
})();
