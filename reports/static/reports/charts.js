// Draws the reports' charts from the JSON the page embeds (no request of its own).
// Series differ by shape as well as colour — solid against dashed lines, bars against lines,
// different point styles — and every chart has its numbers in a table beside it.
(function () {
  "use strict";

  function data(canvas) {
    var source = document.getElementById(canvas.dataset.source);
    return source ? JSON.parse(source.textContent) : null;
  }

  function textColour() {
    return getComputedStyle(document.body).getPropertyValue("--body-fg").trim() || "#333";
  }

  var GREEN = "#1b7f3b", RED = "#c0392b", ORANGE = "#b35c00", BLUE = "#1f5fa8", GREY = "#8a8f98";

  function axis(title, extra) {
    var options = { title: { display: true, text: title, color: textColour() }, ticks: { color: textColour() } };
    return Object.assign(options, extra || {});
  }

  var builders = {
    "pass-rate": function (d) {
      return {
        data: {
          labels: d.days,
          datasets: [
            { type: "line", label: "Pass rate (%)", data: d.pass_rate, yAxisID: "rate", borderColor: GREEN,
              backgroundColor: GREEN, pointStyle: "triangle", pointRadius: 4, spanGaps: true, tension: 0.2 },
            { type: "bar", label: "Case runs", data: d.runs, yAxisID: "runs", backgroundColor: "rgba(138,143,152,0.35)",
              borderColor: GREY, borderWidth: 1 },
          ],
        },
        options: {
          scales: {
            x: axis("Day (UTC)", { ticks: { color: textColour(), maxTicksLimit: 10 } }),
            rate: axis("Pass rate (%)", { position: "left", min: 0, max: 100 }),
            runs: axis("Case runs", { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } }),
          },
        },
      };
    },
    "duration": function (d) {
      return {
        type: "line",
        data: {
          labels: d.days,
          datasets: [{ label: "Mean case duration (s)", data: d.mean_duration_s, borderColor: BLUE,
                       backgroundColor: BLUE, pointStyle: "rect", pointRadius: 3, spanGaps: true, tension: 0.2 }],
        },
        options: { scales: { x: axis("Day (UTC)", { ticks: { color: textColour(), maxTicksLimit: 10 } }),
                             y: axis("Seconds", { beginAtZero: true }) } },
      };
    },
    "case-duration": function (d) {
      return {
        type: "line",
        data: {
          labels: d.days,
          datasets: [
            { label: "p50 (s)", data: d.p50_s, borderColor: BLUE, backgroundColor: BLUE, pointStyle: "circle" },
            { label: "p95 (s), dashed", data: d.p95_s, borderColor: ORANGE, backgroundColor: ORANGE,
              borderDash: [6, 4], pointStyle: "triangle" },
          ],
        },
        options: { scales: { x: axis("Day (UTC)"), y: axis("Seconds", { beginAtZero: true }) } },
      };
    },
    "suite-runs": function (d) {
      return {
        data: {
          labels: d.labels,
          datasets: [
            { type: "bar", label: "Passed", data: d.passed, stack: "cases", backgroundColor: GREEN, yAxisID: "cases" },
            { type: "bar", label: "Failed (black outline)", data: d.failed, stack: "cases", backgroundColor: RED,
              borderColor: "#000", borderWidth: 2, yAxisID: "cases" },
            { type: "bar", label: "Errors", data: d.errored, stack: "cases", backgroundColor: ORANGE, yAxisID: "cases" },
            { type: "line", label: "Duration (s), dashed", data: d.duration_s, borderColor: BLUE,
              backgroundColor: BLUE, borderDash: [6, 4], yAxisID: "seconds", pointStyle: "rect" },
          ],
        },
        options: {
          scales: {
            x: axis("Run finished"),
            cases: axis("Cases", { stacked: true, beginAtZero: true, position: "left" }),
            seconds: axis("Seconds", { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } }),
          },
        },
      };
    },
  };

  function draw() {
    if (typeof window.Chart === "undefined") return;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var d = data(canvas), build = builders[canvas.dataset.chart];
      if (!d || !build) return;
      var config = build(d);
      config.options = Object.assign(
        { responsive: true, maintainAspectRatio: false, animation: false,
          interaction: { mode: "index", intersect: false },
          plugins: { legend: { labels: { color: textColour(), usePointStyle: true } } } },
        config.options
      );
      canvas.chart = new window.Chart(canvas, config);
      canvas.dataset.rendered = "true";
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
