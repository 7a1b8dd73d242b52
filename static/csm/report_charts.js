// The KPI report pages' charts (churn analysis, health and saves, experiment results, the
// scorecard's backtest): draws every
// <canvas data-report-chart="ID" data-kind="..."> from the JSON in <script id="ID">, on page load
// and again for content htmx swaps in. Chart.js is vendored in static/vendor.
(function () {
  "use strict";

  var base = {
    maintainAspectRatio: false,
    animation: false,
  };

  function percentTick(v) { return v + "%"; }

  // A monthly rate as bars (red above the benchmark, blue at or below it), with the benchmark
  // drawn as a dashed line across the months.
  function benchmark(canvas, data) {
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { type: "line", label: data.benchmark_label, data: data.labels.map(function () { return data.benchmark; }),
            borderColor: "#16a34a", borderDash: [6, 4], borderWidth: 2, pointRadius: 0, fill: false, order: 0 },
          { label: data.series_label, data: data.values, borderRadius: 3, order: 1,
            backgroundColor: data.values.map(function (v) { return v !== null && v > data.benchmark ? "#dc2626" : "#3b82f6"; }) },
        ],
      },
      options: Object.assign({}, base, {
        plugins: {
          legend: { position: "bottom", labels: { generateLabels: function (chart) {
            return [
              { text: data.series_label + " — " + data.above_label, fillStyle: "#dc2626", strokeStyle: "#dc2626", lineWidth: 0 },
              { text: data.series_label + " — " + data.below_label, fillStyle: "#3b82f6", strokeStyle: "#3b82f6", lineWidth: 0 },
              { text: data.benchmark_label, fillStyle: "rgba(0,0,0,0)", strokeStyle: "#16a34a", lineWidth: 2, lineDash: [6, 4] },
            ];
          } } },
          tooltip: { callbacks: { label: function (ctx) {
            return ctx.dataset.label + ": " + (ctx.parsed.y === null ? "—" : ctx.parsed.y.toFixed(2) + "%");
          } } },
        },
        scales: { y: { beginAtZero: true, ticks: { callback: percentTick } },
                  x: { ticks: { maxRotation: 0, autoSkip: true } } },
      }),
    });
  }

  // Bars, stacked (data.stacks) or side by side (data.bars).
  function bars(canvas, data, stacked) {
    var series = stacked ? data.stacks : data.bars;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: series.map(function (s) {
          return { label: s.label, data: s.values, backgroundColor: s.color, borderRadius: stacked ? 0 : 3 };
        }),
      },
      options: Object.assign({}, base, {
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { stacked: stacked, ticks: { maxRotation: 0, autoSkip: true } },
          y: { stacked: stacked, beginAtZero: true, ticks: { precision: 0 },
               title: { display: !!data.y_label, text: data.y_label } },
        },
      }),
    });
  }

  // One bar per group with its own colour (an experiment's churn rate per group).
  function groups(canvas, data) {
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ data: data.values, backgroundColor: data.colors, borderRadius: 3 }] },
      options: Object.assign({}, base, {
        indexAxis: "y",
        plugins: { legend: { display: false },
                   tooltip: { callbacks: { label: function (ctx) { return ctx.parsed.x.toFixed(1) + "%"; } } } },
        scales: { x: { beginAtZero: true, ticks: { callback: percentTick },
                       title: { display: !!data.y_label, text: data.y_label } } },
      }),
    });
  }

  // The backtest's ROC curve: data.points [{x, y}] from (0, 0) to (1, 1), with the diagonal a
  // coin would draw.
  function roc(canvas, data) {
    new Chart(canvas, {
      type: "scatter",
      data: { datasets: [
        { label: data.label, data: data.points, showLine: true, borderColor: "#2563eb",
          backgroundColor: "#2563eb", borderWidth: 2, pointRadius: 0, pointHitRadius: 4 },
        { label: data.chance_label, data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true,
          borderColor: "#94a3b8", borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0 },
      ] },
      options: Object.assign({}, base, {
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { min: 0, max: 1, title: { display: true, text: data.x_label } },
          y: { min: 0, max: 1, title: { display: true, text: data.y_label } },
        },
      }),
    });
  }

  // Horizontal bars on a 0-1 scale (each measure's AUC) with a dashed line at data.reference.
  var reference = {
    id: "reference",
    afterDatasetsDraw: function (chart, _args, options) {
      if (options.value === undefined) return;
      var x = chart.scales.x.getPixelForValue(options.value), area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      ctx.strokeStyle = "#64748b"; ctx.setLineDash([6, 4]); ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.moveTo(x, area.top); ctx.lineTo(x, area.bottom); ctx.stroke();
      ctx.restore();
    },
  };

  function scale(canvas, data) {
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ data: data.values, borderRadius: 3,
        backgroundColor: data.values.map(function (v) { return v !== null && v > data.reference ? "#2563eb" : "#cbd5e1"; }) }] },
      options: Object.assign({}, base, {
        indexAxis: "y",
        plugins: { legend: { display: false }, reference: { value: data.reference },
                   tooltip: { callbacks: { label: function (ctx) { return ctx.parsed.x === null ? "—" : ctx.parsed.x.toFixed(3); } } } },
        scales: { x: { min: 0, max: 1, title: { display: !!data.x_label, text: data.x_label } } },
      }),
      plugins: [reference],
    });
  }

  var kinds = { benchmark: benchmark, groups: groups, roc: roc, scale: scale,
                stacked: function (c, d) { bars(c, d, true); }, bars: function (c, d) { bars(c, d, false); } };

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.reportChart);
    var kind = kinds[canvas.dataset.kind];
    if (!source || !kind) return;
    canvas.dataset.drawn = "1";
    kind(canvas, JSON.parse(source.textContent));
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-report-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  // The whole document: an outerHTML swap replaces the event's target, and drawn canvases are skipped.
  document.addEventListener("htmx:afterSettle", function () { drawAll(document); });
})();
