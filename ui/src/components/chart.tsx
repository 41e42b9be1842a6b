/**
 * A live rate chart (uPlot, bundled: no CDN). The page feeds it one sample per poll; it keeps
 * the last MAX_POINTS. The newest values are mirrored on the element (data-latest) so a person's
 * screen reader and the browser test can read what the canvas shows.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export const MAX_POINTS = 120;

export interface Series {
  readonly label: string;
  readonly color: string;
}

export interface Samples {
  readonly times: number[];
  readonly values: number[][];
}

export function emptySamples(series: readonly Series[]): Samples {
  return { times: [], values: series.map(() => []) };
}

export function addSample(samples: Samples, time: number, values: readonly number[]): Samples {
  const keep = (list: number[], value: number) => [...list, value].slice(-MAX_POINTS);
  return {
    times: keep(samples.times, time),
    values: samples.values.map((list, i) => keep(list, values[i] ?? 0)),
  };
}

export function RateChart({
  title,
  series,
  samples,
  testId,
  unit = "msg/s",
}: {
  unit?: string;
  title: string;
  series: readonly Series[];
  samples: Samples;
  testId: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = host.current;
    if (!element) return;
    const width = Math.max(320, element.clientWidth || 640);
    plot.current = new uPlot(
      {
        title,
        width,
        height: 220,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{}, { label: unit }],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      },
      [[], ...series.map(() => [])],
      element,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [title, series, unit]);

  useEffect(() => {
    plot.current?.setData([samples.times, ...samples.values]);
  }, [samples]);

  const latest = samples.values.map((list) => list[list.length - 1] ?? 0);
  return (
    <figure class="chart" data-testid={testId} data-points={samples.times.length}>
      <div ref={host} />
      <figcaption>
        {series.map((s, i) => (
          <span key={s.label} data-series={s.label} data-latest={latest[i]}>
            {s.label}: {latest[i]?.toFixed(unit === "msg/s" ? 2 : 0)} {unit}{" "}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
