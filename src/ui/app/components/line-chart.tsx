import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useDarkScheme } from "../use-dark-scheme";

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  /** "right": drawn against a second axis on the right (small counts beside large ones). */
  axis?: "right";
}

export interface LineChartProps {
  /** Accessible name of the chart, also its caption. */
  title: string;
  /** Unix seconds, ascending. */
  x: number[];
  series: ChartSeries[];
  height?: number;
  /** Bars instead of lines (for per-day totals). */
  bars?: boolean;
}

/** Distinct hues, each with at least 3:1 contrast on its theme's card colour (white, or the dark theme's #111827). */
const COLORS = {
  light: ["#1d4ed8", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490", "#a16207", "#be185d"],
  dark: ["#60a5fa", "#fb923c", "#4ade80", "#c084fc", "#f87171", "#22d3ee", "#facc15", "#f472b6"],
};
const AXIS = {
  light: { stroke: "#334155", grid: { stroke: "#e2e8f0" }, ticks: { stroke: "#cbd5e1" } },
  dark: { stroke: "#cbd5e1", grid: { stroke: "#1f2937" }, ticks: { stroke: "#334155" } },
};

/**
 * A uPlot chart that fills its container's width and follows resizes; new data is drawn into the
 * same chart. The numbers behind it are also in the page's text and tables, which screen readers
 * read; the chart itself is a labelled image.
 */
export function LineChart({ title, x, series, height = 220, bars = false }: LineChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const theme = useDarkScheme() ? "dark" : "light";
  // The canvas is painted with the theme's colours: a change of theme rebuilds the chart.
  const shape = `${theme}|${bars}|${height}|${series.map((s) => `${s.label}:${s.axis ?? ""}`).join("\u0000")}`;
  const right = series.some((s) => s.axis === "right");
  const data = [x, ...series.map((s) => s.values)] as uPlot.AlignedData;

  useEffect(() => {
    const element = host.current;
    if (element == null) return;
    const paths = bars ? uPlot.paths.bars?.({ size: [0.7, 48], gap: 1 }) : undefined;
    const chart = new uPlot(
      {
        width: Math.max(240, element.clientWidth),
        height,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [AXIS[theme], { ...AXIS[theme], size: 56 }, ...(right ? [{ ...AXIS[theme], scale: "right", side: 1, size: 48, grid: { show: false } }] : [])],
        series: [
          {},
          ...series.map((s, i) => {
            const color = COLORS[theme][i % COLORS[theme].length]!;
            return { label: s.label, stroke: color, width: 2, ...(s.axis === "right" && { scale: "right" }), ...(bars && { fill: `${color}b3`, paths }) };
          }),
        ],
      },
      data,
      element,
    );
    plot.current = chart;
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(240, element.clientWidth), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // The chart is rebuilt only when its series change; data alone is redrawn below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure class="chart">
      <div ref={host} class="chart-canvas" role="img" aria-label={title} />
      <figcaption>{title}</figcaption>
    </figure>
  );
}
