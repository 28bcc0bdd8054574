// Step 1 without a page reload: the lookup form asks /api/v1/legislators and shows the answer.
// Without JavaScript the same form reloads the page, which renders _legislators.html.
(function () {
  "use strict";
  var box = document.getElementById("legislators");
  var form = document.querySelector("form.lookup");
  var stringsNode = document.getElementById("legislators-i18n");
  if (!box || !form || !stringsNode || !window.fetch) return;
  var t = JSON.parse(stringsNode.textContent);
  var DELEGATE_AREAS = ["DC", "PR", "GU", "VI", "AS", "MP"];

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return key in values ? values[key] : ""; });
  }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function seatName(p) {
    if (p.district === null || p.district === undefined) return p.state;
    return p.state + "-" + (p.district ? p.district : t.at_large);
  }
  function person(p) {
    if (p.vacant) {
      return el("li", { "class": "legislator vacant" }, [
        el("strong", {}, [t.representative + ", " + seatName(p)]), el("p", {}, [t.seat_vacant])]);
    }
    var role = p.chamber === "senate" ? t.senator
      : (DELEGATE_AREAS.indexOf(p.state) >= 0 ? t.delegate : t.representative);
    var party = p.party ? " · " + (t["party_" + p.party] || p.party) : "";
    var contact = el("ul", { "class": "contact" });
    if (p.phone) contact.appendChild(el("li", {}, [t.phone + ": ", el("a", { href: "tel:" + p.phone }, [p.phone])]));
    if (p.url) contact.appendChild(el("li", {}, [el("a", { href: p.url, rel: "noopener" }, [t.website])]));
    if (p.contact_form) contact.appendChild(el("li", {}, [el("a", { href: p.contact_form, rel: "noopener" }, [t.contact_form])]));
    if (p.twitter) contact.appendChild(el("li", {}, ["X: ", el("a", { href: "https://x.com/" + p.twitter, rel: "noopener" }, ["@" + p.twitter])]));
    return el("li", { "class": "legislator" }, [
      el("strong", {}, [p.name]), " ",
      el("span", { "class": "role" }, [role + ", " + seatName(p) + party]), contact,
      el("small", { "class": "codes" }, [t.cwc_office + " " + p.cwc_office + " · Bioguide " + p.bioguide_id])]);
  }
  function chooser(answer) {
    var fieldset = el("fieldset", {}, [el("legend", {}, [t.choose_district])]);
    answer.representatives.forEach(function (rep, i) {
      var id = "district-" + (i + 1);
      fieldset.appendChild(el("p", { "class": "check" }, [
        el("input", { type: "radio", name: "district", id: id, value: String(rep.district), required: "" }),
        el("label", { "for": id }, [seatName(rep) + ": " + (rep.vacant ? t.seat_vacant_short : rep.name)])]));
    });
    var choose = el("form", { method: "get", action: "", "class": "choose" }, [
      fieldset, el("button", { type: "submit" }, [t.use_district])]);
    choose.addEventListener("submit", function (event) {
      event.preventDefault();
      var picked = choose.querySelector("input[name=district]:checked");
      if (picked) lookup(answer.zip, "", picked.value);
    });
    return el("div", { "class": "panel", role: "status" }, [
      el("p", {}, [el("strong", {}, [fill(t.split_zip, { zip: answer.zip, n: answer.districts.length })])]), choose]);
  }
  function render(answer, addressStatus) {
    box.textContent = "";
    box.appendChild(el("h3", {}, [fill(t.your_legislators, { zip: answer.zip })]));
    var note = t["address_" + addressStatus];
    if (note) box.appendChild(el("p", { "class": "panel" + (addressStatus === "matched" ? " success" : "") }, [fill(note, { zip: answer.zip })]));
    if (answer.ambiguous) box.appendChild(chooser(answer));
    if (answer.senators.length) {
      box.appendChild(el("h4", {}, [t.senators]));
      box.appendChild(el("ul", { "class": "people" }, answer.senators.map(person)));
    } else {
      box.appendChild(el("p", {}, [t.no_senators]));
    }
    box.appendChild(el("h4", {}, [t.house_members]));
    box.appendChild(el("ul", { "class": "people" }, answer.representatives.map(person)));
  }
  function showError(key, zip) {
    box.textContent = "";
    box.appendChild(el("p", { "class": "panel error", role: "alert" }, [fill(t[key] || t.lookup_failed, { zip: zip })]));
  }
  function syncStep3(zip, address, district) {
    var zipField = document.getElementById("zip");
    var addressField = document.getElementById("address");
    var districtField = document.getElementById("chosen-district");
    if (zipField && !zipField.value) zipField.value = zip;
    if (addressField && address && !addressField.value) addressField.value = address;
    if (districtField) districtField.value = district || "";
  }
  function lookup(zip, address, district) {
    var params = new URLSearchParams({ zip: zip });
    if (address) params.set("address", address);
    if (district) params.set("district", district);
    box.setAttribute("aria-busy", "true");
    box.textContent = t.lookup_loading;
    fetch(box.getAttribute("data-api") + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (body) { return { response: response, body: body }; });
      })
      .then(function (result) {
        if (result.response.ok) {
          render(result.body, result.response.headers.get("X-Lookup-Address"));
          syncStep3(zip, address, result.body.ambiguous ? "" : district);
          var pageParams = new URLSearchParams(window.location.search);
          ["zip", "address", "district"].forEach(function (k) { pageParams.delete(k); });
          params.forEach(function (value, key) { pageParams.set(key, value); });
          history.replaceState(null, "", "?" + pageParams.toString());
        } else if (result.response.status === 404) {
          showError("lookup_zip_not_found", zip);
        } else if (result.response.status === 503) {
          showError("lookup_no_data", zip);
        } else {
          var field = result.body && result.body.error ? result.body.error.field : "";
          showError("lookup_bad_" + field, zip);
        }
      })
      .catch(function () { showError("lookup_failed", zip); })
      .then(function () { box.removeAttribute("aria-busy"); });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    lookup(form.elements.zip.value.trim(), form.elements.address.value.trim(), "");
  });
})();
