import { useComputedColorScheme } from '@mantine/core';
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { bytes } from '../../ui/format';
import type { SourceOverview } from './dashboard-store';

type Day = SourceOverview['storage']['days'][number];

const WIDTH = 360;
const HEIGHT = 110;

/** A theme colour for the canvas (which cannot read CSS variables itself), as the current scheme sets it. */
function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

const heldTotal = (d: Day) => (d.held ? d.held.snapshotBytes + d.held.oplogBytes : null);

/** What the chart shows, in words: for screen readers and for the tests. */
export function trendSummary(days: readonly Day[]): string {
  const known = days.filter((d) => d.held !== null);
  const last = known.at(-1);
  if (!last?.held) return `Nothing recorded in the last ${days.length} days.`;
  const first = known[0]!;
  const top = known.reduce((a, d) => (heldTotal(d)! > heldTotal(a)! ? d : a));
  const since = first.day === days[0]?.day ? '' : ` (recorded since ${first.day})`;
  return (
    `Held on ${last.day}: ${bytes(heldTotal(last)!)} (snapshots ${bytes(last.held.snapshotBytes)}, oplog ${bytes(last.held.oplogBytes)}); ` +
    `on ${first.day}: ${bytes(heldTotal(first)!)}${since}; most on ${top.day} (${bytes(heldTotal(top)!)}).`
  );
}

/**
 * The storage the repository held for the source at the end of each UTC day over the last month
 * (compressed, snapshots and oplog, as the catalog recorded it: retention deleting old files later
 * does not change a past day), drawn by uPlot on a canvas. uPlot sizes its elements through the
 * CSSOM (element.style), which the CSP allows; its stylesheet is bundled with the app's. The
 * canvas cannot use CSS variables, so the colours are read from the theme when the chart is made,
 * and it is made again when the colour scheme changes.
 */
export function StorageTrend({ days, source }: { days: readonly Day[]; source: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const scheme = useComputedColorScheme('light');

  // Days before anything was recorded are gaps (null), not zeros.
  const data: uPlot.AlignedData = [
    days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000),
    days.map(heldTotal),
    days.map((d) => d.held?.snapshotBytes ?? null),
    days.map((d) => d.held?.oplogBytes ?? null),
  ];

  useEffect(() => {
    if (!box.current) return;
    const text = themeColor('--mantine-color-text', scheme === 'dark' ? '#c9c9c9' : '#000');
    const grid = themeColor('--mantine-color-default-border', '#ccc');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const u = new uPlot(
      {
        width: WIDTH,
        height: HEIGHT,
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        cursor: { y: false },
        scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          { ...axis, values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(5, 10)) },
          { ...axis, size: 64, values: (_u, ticks) => ticks.map((t) => bytes(t)) },
        ],
        series: [
          {
            label: 'day (UTC)',
            value: (_u, t) => (t == null ? '—' : new Date(t * 1000).toISOString().slice(0, 10)),
          },
          {
            label: 'total',
            stroke: themeColor('--mantine-color-grape-6', '#be4bdb'),
            width: 2,
            value: (_u, v) => (v == null ? '—' : bytes(v)),
          },
          {
            label: 'snapshots',
            stroke: themeColor('--mantine-color-teal-6', '#12b886'),
            width: 2,
            value: (_u, v) => (v == null ? '—' : bytes(v)),
          },
          {
            label: 'oplog',
            stroke: themeColor('--mantine-color-blue-6', '#228be6'),
            width: 2,
            value: (_u, v) => (v == null ? '—' : bytes(v)),
          },
        ],
      },
      data,
      box.current,
    );
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = null;
    };
    // Made again only when the colours change; new figures go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [scheme]);

  const figures = data.map((col) => col.join(',')).join(';');
  useEffect(() => {
    plot.current?.setData(data);
    // The figures, not the array made anew at each render, say whether anything changed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [figures]);

  return (
    <div
      ref={box}
      className="storage-trend"
      role="img"
      data-testid="storage-trend"
      aria-label={`Storage held per day by ${source}. ${trendSummary(days)}`}
    />
  );
}
