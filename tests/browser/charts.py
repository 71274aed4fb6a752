"""What a drawn chart looks like from the outside: Chart.js attached to the canvas with data, and
coloured pixels on it (axes, grid lines and labels are grey; only data is drawn in colour)."""

from __future__ import annotations

from playwright.sync_api import Locator, expect

COLOURED_PIXELS = """(canvas) => {
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let coloured = 0;
  for (let i = 0; i < data.length; i += 4) {
    const r = data[i], g = data[i + 1], b = data[i + 2], a = data[i + 3];
    if (a > 128 && Math.max(r, g, b) - Math.min(r, g, b) > 80) coloured++;
  }
  return coloured;
}"""

DATA_POINTS = """(canvas) => {
  const chart = window.Chart && window.Chart.getChart(canvas);
  if (!chart) return -1;
  return chart.data.datasets.reduce((n, d) => n + d.data.filter((v) => v !== null).length, 0);
}"""


def assert_chart_drew(canvas: Locator, min_points: int = 1, min_pixels: int = 30) -> None:
    expect(canvas).to_have_attribute("data-chart-drawn", "1")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 50, f"the chart has no room: {box}"
    points = canvas.evaluate(DATA_POINTS)
    assert points >= min_points, f"the chart holds {points} data points, expected at least {min_points}"
    pixels = canvas.evaluate(COLOURED_PIXELS)
    assert pixels >= min_pixels, f"only {pixels} coloured pixels on the canvas: nothing was drawn"
