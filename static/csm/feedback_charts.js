// The feedback pages' charts: every <canvas data-feedback-chart="ID" data-series="nps|csat-ces">
// drawn from the JSON in <script id="ID">; on page load and after htmx swaps. Chart.js is vendored.
(function () {
  "use strict";

  // Shades the NPS range behind the chart: below 0 red, 0-30 neutral, above 30 green, and draws
  // the zero line, so "are we above water" reads at a glance.
  var npsBands = {
    id: "npsBands",
    beforeDraw: function (chart) {
      var area = chart.chartArea, y = chart.scales.y, ctx = chart.ctx;
      [[-100, 0, "rgba(220, 38, 38, .07)"], [30, 100, "rgba(22, 163, 74, .07)"]].forEach(function (band) {
        var top = y.getPixelForValue(Math.min(band[1], y.max)), bottom = y.getPixelForValue(Math.max(band[0], y.min));
        if (bottom <= top) return;
        ctx.fillStyle = band[2];
        ctx.fillRect(area.left, top, area.right - area.left, bottom - top);
      });
      var zero = y.getPixelForValue(0);
      ctx.save();
      ctx.strokeStyle = "#64748b";
      ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(area.left, zero); ctx.lineTo(area.right, zero); ctx.stroke();
      ctx.restore();
    },
  };

  function npsRange(values) {
    var present = values.filter(function (v) { return v !== null; });
    if (!present.length) return [-100, 100];
    var low = Math.min.apply(null, present.concat([0])), high = Math.max.apply(null, present.concat([0]));
    return [Math.max(-100, Math.floor((low - 10) / 10) * 10), Math.min(100, Math.ceil((high + 10) / 10) * 10)];
  }

  function drawNps(canvas, data) {
    var range = npsRange(data.nps.concat(data.nps_rolling));
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.labels_text.nps_rolling, data: data.nps_rolling, borderColor: "#1d4ed8",
            backgroundColor: "#1d4ed8", borderWidth: 3, pointRadius: 0, pointHitRadius: 8,
            tension: 0.3, spanGaps: true },
          { label: data.labels_text.nps, data: data.nps, borderColor: "rgba(100, 116, 139, .6)",
            backgroundColor: "#94a3b8", borderWidth: 1, borderDash: [4, 4], pointRadius: 3,
            pointHoverRadius: 5, tension: 0, spanGaps: true },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true } },
          tooltip: { callbacks: { afterLabel: function (ctx) {
            return ctx.datasetIndex === 1 ? data.nps_n[ctx.dataIndex] + " " + data.labels_text.answers : "";
          } } },
        },
        scales: {
          y: { min: range[0], max: range[1], ticks: { stepSize: 10 } },
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
        },
      },
      plugins: [npsBands],
    });
  }

  function drawCsatCes(canvas, data) {
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.labels_text.csat, data: data.csat, borderColor: "#059669", backgroundColor: "#059669",
            borderWidth: 2, pointRadius: 3, tension: 0.25, spanGaps: true },
          { label: data.labels_text.ces, data: data.ces, borderColor: "#d97706", backgroundColor: "#d97706",
            borderWidth: 2, pointRadius: 3, tension: 0.25, spanGaps: true },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { position: "bottom" } },
        scales: {
          y: { min: 0, max: 100, ticks: { stepSize: 25, callback: function (v) { return v + "%"; } } },
          x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 12 } },
        },
      },
    });
  }

  function draw(canvas) {
    if (canvas.dataset.drawn || typeof Chart === "undefined") return;
    var source = document.getElementById(canvas.dataset.feedbackChart);
    if (!source) return;
    var data = JSON.parse(source.textContent);
    canvas.dataset.drawn = "1";
    if (canvas.dataset.series === "nps") drawNps(canvas, data);
    else drawCsatCes(canvas, data);
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-feedback-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
