// ThaliMon page behaviour. No inline scripts anywhere (Content-Security-Policy).
(function () {
  "use strict";
  // Patient form: show the Montreal fields only for Crohn's disease and the
  // autoinflammatory disease type only for AID. The server validates either way.
  function toggleDiagnosisFields() {
    var select = document.querySelector("[data-diagnosis-select]");
    if (!select) { return; }
    var diagnosis = select.value;
    var groups = {
      CD: ["montreal_location", "montreal_behavior", "upper_gi", "perianal", "ileocolic_resection"],
      AID: ["aid_type"]
    };
    Object.keys(groups).forEach(function (key) {
      groups[key].forEach(function (name) {
        var wrapper = document.getElementById("div_id_" + name);
        if (!wrapper) { return; }
        var field = document.getElementById("id_" + name);
        var hasValue = field && (field.type === "checkbox" ? field.checked : field.value !== "");
        // Never hide a field that holds a value: the clinician must see what will be refused.
        wrapper.classList.toggle("hidden-by-diagnosis", diagnosis !== key && !hasValue);
      });
    });
    document.querySelectorAll("[data-show-for]").forEach(function (el) {
      el.classList.toggle("hidden-by-diagnosis", el.getAttribute("data-show-for") !== diagnosis);
    });
  }
  // Collapsible sections (<details>): printed open; opened when a link points inside one.
  function openSectionOf(hash) {
    if (!hash || hash.length < 2) { return; }
    var target = document.getElementById(decodeURIComponent(hash.slice(1)));
    var section = target && target.closest("details");
    if (section) { section.open = true; }
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.setAttribute("data-was-open", d.open ? "1" : ""); d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-was-open]").forEach(function (d) { d.open = d.getAttribute("data-was-open") === "1"; d.removeAttribute("data-was-open"); });
  });
  window.addEventListener("hashchange", function () { openSectionOf(window.location.hash); });
  document.addEventListener("DOMContentLoaded", function () {
    openSectionOf(window.location.hash);
    var select = document.querySelector("[data-diagnosis-select]");
    if (select) {
      select.addEventListener("change", toggleDiagnosisFields);
      toggleDiagnosisFields();
    }
  });
})();
