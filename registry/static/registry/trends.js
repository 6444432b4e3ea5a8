// Draws each chart of the dashboard and the monthly report with Chart.js (shipped in
// registry/vendor, no internet needed). Each <canvas data-chart="ID"> reads its
// configuration from the <script type="application/json" id="ID"> beside it; the table
// under the chart holds the same figures.
(function () {
  "use strict";
  function draw() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source || canvas.dataset.drawn) { return; }
      var config = JSON.parse(source.textContent);
      canvas.chart = new window.Chart(canvas, config);
      canvas.dataset.drawn = "1";
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
  // Print the report with the charts at the page's width.
  window.addEventListener("beforeprint", function () {
    Object.values(window.Chart ? window.Chart.instances : {}).forEach(function (c) { c.resize(); });
  });
}());
