// Trust over time on the trust page: projected trust with its uncertainty band (one per direction).
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Chart === "undefined") return;
  document.querySelectorAll("canvas.trust-chart").forEach((canvas) => {
    const source = document.getElementById(canvas.dataset.source);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    canvas.chart = new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: canvas.dataset.labelHigh,
            data: data.high,
            borderColor: "rgba(29, 78, 216, 0.25)",
            backgroundColor: "rgba(29, 78, 216, 0.15)",
            pointRadius: 0,
            fill: "+1",
          },
          {
            label: canvas.dataset.labelLow,
            data: data.low,
            borderColor: "rgba(29, 78, 216, 0.25)",
            pointRadius: 0,
            fill: false,
          },
          {
            label: canvas.dataset.labelProjected,
            data: data.projected,
            borderColor: "#1d4ed8",
            pointRadius: 2,
            tension: 0.15,
            fill: false,
          },
        ],
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { min: 0, max: 100 } },
        plugins: { legend: { position: "bottom" } },
      },
    });
    canvas.dataset.ready = "true";
  });
});
