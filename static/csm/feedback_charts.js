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

  // A month without answers is null: the line breaks there (spanGaps false) instead of joining
  // its neighbours. The current month is partial (data.partial, its index): the segment into it
  // is dashed and its point open, so month-to-date does not read as a full month.
  function partialStyle(data, colour, dash) {
    var isPartial = function (index) { return data.partial !== null && index === data.partial; };
    return {
      spanGaps: false,
      pointBackgroundColor: function (ctx) { return isPartial(ctx.dataIndex) ? "#fff" : colour; },
      pointBorderColor: colour,
      segment: { borderDash: function (ctx) { return isPartial(ctx.p1DataIndex) ? [6, 4] : dash; } },
      // A point on the axis's end (NPS 100, CSAT 100%) is drawn whole, not cut by the plot area.
      clip: false,
    };
  }

  function line(data, options, colour, dash) {
    return Object.assign({ borderColor: colour, backgroundColor: colour }, options,
      partialStyle(data, colour, dash));
  }

  function drawNps(canvas, data) {
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          line(data, { label: data.labels_text.nps_rolling, data: data.nps_rolling, borderWidth: 3,
            pointRadius: 0, pointHitRadius: 8, tension: 0.3 }, "#1d4ed8", undefined),
          line(data, { label: data.labels_text.nps, data: data.nps, borderWidth: 1, pointRadius: 3,
            pointHoverRadius: 5, tension: 0 }, "#64748b", [4, 4]),
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: { top: 6 } },
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true } },
          tooltip: { callbacks: { afterLabel: function (ctx) {
            return ctx.datasetIndex === 1 ? data.nps_n[ctx.dataIndex] + " " + data.labels_text.answers : "";
          } } },
        },
        scales: {
          // NPS runs from -100 to 100 (DESIGN §4): the whole range, always, so months and
          // books compare at a glance and 100 is never cut off.
          y: { min: -100, max: 100, ticks: { stepSize: 25 } },
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
          line(data, { label: data.labels_text.csat, data: data.csat, borderWidth: 2, pointRadius: 3,
            tension: 0.25 }, "#059669", undefined),
          line(data, { label: data.labels_text.ces, data: data.ces, borderWidth: 2, pointRadius: 3,
            tension: 0.25 }, "#d97706", undefined),
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        layout: { padding: { top: 6 } },
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
