// Draws every <canvas data-chart="ID"> from the JSON in <script id="ID">; runs on page load and
// again for content htmx swaps in. Chart.js is vendored in static/vendor.
(function () {
  "use strict";

  function money(symbol, value) {
    return symbol + Number(value).toLocaleString(undefined, { maximumFractionDigits: 0 });
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
        datasets: [{ label: canvas.dataset.label || "Health", data: data.values, borderColor: "#334155",
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

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    var symbol = canvas.dataset.currency || "";
    canvas.dataset.drawn = "1";
    if (canvas.dataset.kind === "health") return drawHealth(canvas, data);
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: "MRR", data: data.values, backgroundColor: "#3b82f6", borderRadius: 3 }],
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
