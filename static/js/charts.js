// Draw every Plotly figure on the page from its JSON (json_script); no inline scripts.
// A chart follows its card: it is redrawn to the card's width whenever the card
// changes size (window resize, a column layout that wraps, a font that loads late).
(function () {
  "use strict";
  var printing = false;  // while printing, charts keep the printed width (printLayout)
  var CONFIG = {displaylogo: false, responsive: true, modeBarButtonsToRemove: ["lasso2d", "select2d"],
                // The page's language: Chinese pages load plotly's zh-CN locale (toolbar, dates).
                locale: document.documentElement.lang === "zh-hans" ? "zh-CN" : "en"};

  function follow(el) {
    if (typeof ResizeObserver === "undefined") { return; }  // responsive: true still follows the window
    var width = el.clientWidth, pending = null;
    new ResizeObserver(function () {
      if (el.clientWidth === width || printing) { return; }
      width = el.clientWidth;
      if (pending) { window.cancelAnimationFrame(pending); }
      pending = window.requestAnimationFrame(function () {
        pending = null;
        Plotly.Plots.resize(el);
      });
    }).observe(el);
  }

  // A figure may offer named x ranges (layout.meta.views, e.g. the dose chart's
  // "Titration / Thalidomide course / All"): real buttons above the chart, reachable by
  // keyboard and read by screen readers (plotly's own menus are SVG, mouse only).
  function viewButtons(el, meta) {
    if (!meta || !meta.views || !meta.views.length) { return; }
    var group = document.createElement("div");
    group.className = "chart-views btn-group btn-group-sm d-print-none m-1";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", meta.views_label || "Time range of the chart");
    meta.views.forEach(function (view) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-outline-secondary";
      button.textContent = view.label;
      button.addEventListener("click", function () {
        Plotly.relayout(el, view.range ? {"xaxis.range": view.range} : {"xaxis.autorange": true});
        pressed(group, button);
      });
      group.appendChild(button);
    });
    pressed(group, group.children[meta.shown] || null);
    el.parentNode.insertBefore(group, el);
  }

  function pressed(group, chosen) {
    group.querySelectorAll("button").forEach(function (button) {
      button.classList.toggle("active", button === chosen);
      button.setAttribute("aria-pressed", String(button === chosen));
    });
  }

  // Chinese pages write days as Chinese clinical documents do (2026年12月7日): the date axes'
  // whole-day ticks and hover labels (thalimon/figures.py writes "07 Dec 2026" for English).
  function chineseDays(layout) {
    var DAY = "%Y年%-m月%-d日";
    Object.keys(layout).forEach(function (key) {
      var axis = layout[key];
      if (!/^[xy]axis\d*$/.test(key) || !axis || axis.type !== "date") { return; }
      axis.hoverformat = DAY;
      (axis.tickformatstops || []).forEach(function (stop) { stop.value = DAY; });
    });
  }

  function draw() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll("[data-plotly-figure]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-plotly-figure"));
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      if (CONFIG.locale === "zh-CN") { chineseDays(figure.layout); }
      figure.layout.autosize = true;
      delete figure.layout.width;
      Plotly.newPlot(el, figure.data, figure.layout, CONFIG).then(function () {
        viewButtons(el, figure.layout.meta);
        el.setAttribute("data-rendered", "true");
        follow(el);
      });
    });
  }
  document.addEventListener("DOMContentLoaded", draw);

  // Print: each chart is drawn to the printed column's width (A4 less the margins, about
  // 670 px; the browser lays the page out for paper only after "beforeprint") and at most
  // 300 px high (three to a page), then back.
  var PRINT_WIDTH = 670, PRINT_HEIGHT = 300;
  function printLayout(on) {
    if (on === printing || typeof Plotly === "undefined") { printing = on; return; }
    printing = on;
    document.querySelectorAll("[data-plotly-figure][data-rendered]").forEach(function (el) {
      if (on) {
        el.screenHeight = el.layout.height;
        Plotly.relayout(el, {autosize: false, width: PRINT_WIDTH, height: Math.min(el.layout.height || PRINT_HEIGHT, PRINT_HEIGHT)});
      } else {
        Plotly.relayout(el, {autosize: true, width: null, height: el.screenHeight});
      }
    });
  }
  window.addEventListener("beforeprint", function () { printLayout(true); });
  window.addEventListener("afterprint", function () { printLayout(false); });
  if (window.matchMedia) {  // emulated print media (a PDF made by a browser driver) too
    window.matchMedia("print").addEventListener("change", function (event) { printLayout(event.matches); });
  }
})();
