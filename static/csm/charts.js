// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID">; runs on page load and
// again for content htmx swaps in. Chart.js is vendored in static/vendor.
(function () {
  "use strict";

  // The page's language: its JavaScript catalogue (/jsi18n/, loaded before this file) and its
  // way of writing numbers (<html lang>), not the browser's.
  var gettext = window.gettext || function (text) { return text; };
  var LANG = document.documentElement.lang || undefined;

  function money(symbol, value) {
    var amount = Number(value);
    var text = Math.abs(amount).toLocaleString(LANG, { maximumFractionDigits: 0 });
    return (amount < 0 ? "-" : "") + symbol + text;  // -¥40, as csm.lib.numbers writes it
  }

  // Shades the health bands behind a 0-100 chart: red 0-50, yellow 51-75, green 76-100.
  var healthBands = {
    id: "healthBands",
    beforeDraw: function (chart) {
      var area = chart.chartArea, y = chart.scales.y, ctx = chart.ctx;
      [[0, 50, "rgba(220, 38, 38, .08)"], [50, 75, "rgba(217, 119, 6, .08)"], [75, 100, "rgba(22, 163, 74, .08)"]]
        .forEach(function (band) {
          ctx.fillStyle = band[2];
          ctx.fillRect(area.left, y.getPixelForValue(band[1]), area.right - area.left,
            y.getPixelForValue(band[0]) - y.getPixelForValue(band[1]));
        });
    },
  };

  function drawHealth(canvas, data) {
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{ label: canvas.dataset.label || gettext("Health"), data: data.values, borderColor: "#334155",
          borderWidth: 2, pointRadius: 0, pointHitRadius: 6, tension: 0.2 }],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        scales: {
          y: { min: 0, max: 100, ticks: { stepSize: 25 } },
          x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } },
        },
      },
      plugins: [healthBands],
    });
  }

  // The KPI overview's charts (csm/kpi_views.py): data = {labels, format: "money"|"percent"|
  // "number", datasets: [{label, values, color, dashed}], stacked, line, fill, zero, min, max}.
  // Stacked = bars stacked around zero (MRR movements: losses negative) with `line` on top.
  function kpiFormat(format, symbol, value) {
    if (value === null || value === undefined) return "—";
    if (format === "money") return money(symbol, value);
    if (format === "percent") return Number(value).toLocaleString(LANG, { maximumFractionDigits: 2 }) + "%";
    return Number(value).toLocaleString(LANG, { maximumFractionDigits: 2 });
  }

  function drawKpi(canvas, data) {
    var symbol = canvas.dataset.currency || "";
    var format = function (v) { return kpiFormat(data.format, symbol, v); };
    var datasets = data.datasets.map(function (set) {
      var base = { label: set.label, data: set.values, borderColor: set.color, backgroundColor: set.color };
      if (data.stacked) return Object.assign(base, { type: "bar", stack: "movements", borderRadius: 2, order: 2 });
      return Object.assign(base, {
        type: "line", borderWidth: set.dashed ? 1.5 : 2.5, borderDash: set.dashed ? [6, 4] : [],
        pointRadius: set.dashed ? 0 : 2, pointHitRadius: 8, tension: 0.15, spanGaps: false,
        fill: data.fill && !set.dashed ? "origin" : false,
        backgroundColor: data.fill ? set.color + "22" : set.color,
      });
    });
    if (data.line) {
      datasets.push({ type: "line", label: data.line.label, data: data.line.values, borderColor: "#111827",
        backgroundColor: "#111827", borderWidth: 2, pointRadius: 2, tension: 0, order: 1 });
    }
    var y = { ticks: { callback: format }, grid: { color: function (ctx) { return ctx.tick && ctx.tick.value === 0 ? "#9ca3af" : "#eef0f3"; } } };
    if (data.stacked) y.stacked = true;
    if (data.zero) y.beginAtZero = true;
    if (data.min !== undefined) y.min = data.min;
    if (data.max !== undefined) y.max = data.max;
    new Chart(canvas, {
      type: data.stacked ? "bar" : "line",
      data: { labels: data.labels, datasets: datasets },
      options: {
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { display: datasets.length > 1, position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: function (ctx) { return ctx.dataset.label + ": " + format(ctx.parsed.y); } } },
        },
        scales: { x: { stacked: !!data.stacked, ticks: { maxTicksLimit: 12, maxRotation: 0 } }, y: y },
      },
    });
  }

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var symbol = canvas.dataset.currency || "";
    canvas.dataset.drawn = "1";
    if (canvas.dataset.kind === "health") return drawHealth(canvas, data);
    if (canvas.dataset.kind === "kpi") return drawKpi(canvas, data);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: gettext("MRR"), data: data.values, backgroundColor: "#3b82f6", borderRadius: 3 }],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) { return money(symbol, ctx.parsed.y); } } },
        },
        scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return money(symbol, v); } } } },
      },
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
