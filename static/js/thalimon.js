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
  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("[data-diagnosis-select]");
    if (select) {
      select.addEventListener("change", toggleDiagnosisFields);
      toggleDiagnosisFields();
    }
  });
})();
