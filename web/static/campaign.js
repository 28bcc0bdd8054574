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

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form === lookupForm || form.classList.contains("choose")) {
      event.preventDefault();
      show(paramsOf(form));
    }
  });
})();
