// Draw every Plotly figure on the page from its JSON (json_script); no inline scripts.
(function () {
  "use strict";
  function draw() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-plotly-figure]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-plotly-figure"));
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      Plotly.newPlot(el, figure.data, figure.layout, {displaylogo: false, responsive: true,
        modeBarButtonsToRemove: ["lasso2d", "select2d"]}).then(function () {
        el.setAttribute("data-rendered", "true");
      });
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
})();
