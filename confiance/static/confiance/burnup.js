// Burn-up chart of the consumption page: consumed days, the budget line and the forecast.
document.addEventListener("DOMContentLoaded", () => {
  const canvas = document.getElementById("burnup-chart");
  const source = document.getElementById("burnup-data");
  if (!canvas || !source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const labels = data.labels;
  const datasets = [
    {
      label: canvas.dataset.labelActual,
      data: data.actual,
      borderColor: "#1d4ed8",
      backgroundColor: "rgba(29, 78, 216, 0.12)",
      fill: true,
      spanGaps: false,
      tension: 0.15,
    },
    {
      label: canvas.dataset.labelForecast,
      data: data.forecast,
      borderColor: "#8a5300",
      borderDash: [6, 4],
      spanGaps: true,
      pointRadius: 3,
    },
  ];
  if (data.budget !== null) {
    datasets.push({
      label: canvas.dataset.labelBudget,
      data: labels.map(() => data.budget),
      borderColor: "#a4161a",
      pointRadius: 0,
      borderWidth: 2,
    });
  }
  canvas.chart = new Chart(canvas, {
    type: "line",
    data: { labels, datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true } },
      plugins: { legend: { position: "bottom" } },
    },
  });
  canvas.dataset.ready = "true";
});
