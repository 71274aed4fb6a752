// Charts from data on the page, without inline scripts: a <canvas data-chart="KIND"
// data-source="ID"> reads the JSON that Django's json_script filter wrote under that id.
(function () {
  "use strict";

  function readData(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : [];
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  var builders = {
    // Daily events as bars: [{day: "2025-01-31", events: 12}, ...]
    usage: function (rows) {
      var primary = cssVar("--tblr-primary", "#066fd1");
      return {
        type: "bar",
        data: {
          labels: rows.map(function (r) { return r.day; }),
          datasets: [{
            label: "Events",
            data: rows.map(function (r) { return r.events; }),
            backgroundColor: primary,
            borderRadius: 2,
            barPercentage: 0.9,
            categoryPercentage: 1.0,
          }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: {
            x: { grid: { display: false }, ticks: { maxTicksLimit: 7, maxRotation: 0 } },
            y: { beginAtZero: true, ticks: { precision: 0 } },
          },
        },
      };
    },
    // MRR waterfall: [{label, value}, ...], the first is the starting level, the rest are moves.
    waterfall: function (rows) {
      var level = 0, bars = [], colors = [];
      rows.forEach(function (r, i) {
        if (i === 0) { bars.push([0, r.value]); level = r.value; colors.push(cssVar("--tblr-secondary", "#6c7a91")); return; }
        bars.push([level, level + r.value]);
        level += r.value;
        colors.push(r.value >= 0 ? cssVar("--tblr-green", "#2fb344") : cssVar("--tblr-red", "#d63939"));
      });
      rows = rows.concat([{ label: "End", value: level }]);
      bars.push([0, level]);
      colors.push(cssVar("--tblr-primary", "#066fd1"));
      return {
        type: "bar",
        data: { labels: rows.map(function (r) { return r.label; }),
                datasets: [{ data: bars, backgroundColor: colors, borderWidth: 0 }] },
        options: { responsive: true, maintainAspectRatio: false, animation: false,
                   plugins: { legend: { display: false } },
                   scales: { x: { grid: { display: false } }, y: { beginAtZero: true } } },
      };
    },
    // Accounts per band per day, stacked: [{day, red, yellow, green}, ...]
    bands: function (rows) {
      function series(key, color) {
        return { label: key, data: rows.map(function (r) { return r[key]; }), backgroundColor: color,
                 borderWidth: 0, barPercentage: 1.0, categoryPercentage: 1.0 };
      }
      return {
        type: "bar",
        data: {
          labels: rows.map(function (r) { return r.day; }),
          datasets: [series("red", cssVar("--tblr-red", "#d63939")), series("yellow", cssVar("--tblr-yellow", "#f59f00")),
                     series("green", cssVar("--tblr-green", "#2fb344"))],
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: false } },
          scales: { x: { stacked: true, grid: { display: false }, ticks: { maxTicksLimit: 6, maxRotation: 0 } },
                    y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        },
      };
    },
    // Health score over time, each point coloured by its band: [{day, score, band}, ...]
    health: function (rows) {
      var colors = { red: cssVar("--tblr-red", "#d63939"), yellow: cssVar("--tblr-yellow", "#f59f00"),
                     green: cssVar("--tblr-green", "#2fb344") };
      return {
        type: "line",
        data: {
          labels: rows.map(function (r) { return r.day; }),
          datasets: [{
            label: "Health",
            data: rows.map(function (r) { return r.score; }),
            borderColor: cssVar("--tblr-primary", "#066fd1"),
            borderWidth: 2,
            pointRadius: 2,
            pointBackgroundColor: rows.map(function (r) { return colors[r.band] || "#9aa0ac"; }),
            pointBorderWidth: 0,
            tension: 0.2,
            spanGaps: true,
          }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: false } },
          scales: {
            x: { grid: { display: false }, ticks: { maxTicksLimit: 6, maxRotation: 0 } },
            y: { min: 0, max: 100, ticks: { stepSize: 25 } },
          },
        },
      };
    },
    // Backtest ROC curve: {points: [[fpr, tpr], ...], auc} with the chance diagonal.
    roc: function (data) {
      var primary = cssVar("--tblr-primary", "#066fd1");
      var points = (data.points || []).map(function (p) { return { x: p[0], y: p[1] }; });
      return {
        type: "line",
        data: {
          datasets: [
            { label: "Score (AUC " + (data.auc === null ? "—" : data.auc.toFixed(3)) + ")", data: points,
              borderColor: primary, borderWidth: 2, pointRadius: 0, stepped: false, fill: false },
            { label: "Chance", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], borderColor: cssVar("--tblr-secondary", "#6c7a91"),
              borderDash: [4, 4], borderWidth: 1, pointRadius: 0 },
          ],
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false, parsing: false,
          plugins: { legend: { display: true, position: "bottom" } },
          scales: {
            x: { type: "linear", min: 0, max: 1, title: { display: true, text: "False positive rate" } },
            y: { min: 0, max: 1, title: { display: true, text: "True positive rate" } },
          },
        },
      };
    },
    // Backtest churn rate (%) per band: [{band, churn_rate, accounts}, ...]
    churnbands: function (rows) {
      var colors = { red: cssVar("--tblr-red", "#d63939"), yellow: cssVar("--tblr-yellow", "#f59f00"),
                     green: cssVar("--tblr-green", "#2fb344") };
      return {
        type: "bar",
        data: {
          labels: rows.map(function (r) { return r.band; }),
          datasets: [{
            label: "Churn rate (%)",
            data: rows.map(function (r) { return r.churn_rate; }),
            backgroundColor: rows.map(function (r) { return colors[r.band] || "#9aa0ac"; }),
            borderWidth: 0,
          }],
        },
        options: {
          responsive: true, maintainAspectRatio: false, animation: false,
          plugins: { legend: { display: false } },
          scales: { x: { grid: { display: false } }, y: { beginAtZero: true, title: { display: true, text: "% churned" } } },
        },
      };
    },
    // A bare trend line for small spaces.
    sparkline: function (rows) {
      var primary = cssVar("--tblr-primary", "#066fd1");
      return {
        type: "line",
        data: {
          labels: rows.map(function (r) { return r.day; }),
          datasets: [{
            data: rows.map(function (r) { return r.events; }),
            borderColor: primary,
            borderWidth: 1.5,
            pointRadius: 0,
            tension: 0.3,
            fill: false,
          }],
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          events: [],
          plugins: { legend: { display: false }, tooltip: { enabled: false } },
          scales: { x: { display: false }, y: { display: false, beginAtZero: true } },
        },
      };
    },
  };

  function draw(root) {
    if (typeof window.Chart === "undefined") {
      return;
    }
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.chartDrawn) {
        return;
      }
      var build = builders[canvas.dataset.chart];
      if (!build) {
        return;
      }
      canvas.dataset.chartDrawn = "1";
      new window.Chart(canvas, build(readData(canvas.dataset.source)));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
  });
  document.addEventListener("htmx:load", function (event) {
    draw(event.target);
  });
})();
