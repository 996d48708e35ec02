/**
 * A small SVG trend of one vital sign: the last points as a line with dots, min/max labelled.
 * Plain SVG (no chart library): it is a glance, not an analysis tool.
 */
import type { VitalSeries } from '../chart/chart-model';

const W = 220;
const H = 56;
const PAD = 6;

export function TrendPlot({ series, last = 20 }: { series: VitalSeries; last?: number }) {
  const pts = series.points.slice(-last);
  if (pts.length === 0) return null;
  const values = pts.map((p) => p.value);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const x = (i: number) => PAD + (pts.length === 1 ? (W - 2 * PAD) / 2 : (i * (W - 2 * PAD)) / (pts.length - 1));
  const y = (v: number) => H - PAD - ((v - min) * (H - 2 * PAD)) / span;
  const coords = pts.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  return (
    <svg className="trend" width={W} height={H} viewBox={`0 0 ${W} ${H}`} role="img"
      aria-label={`${series.vital.label} trend, last ${pts.length} values, from ${min} to ${max} ${series.vital.unit}`}>
      <polyline points={coords} />
      {pts.map((p, i) => <circle key={i} cx={x(i)} cy={y(p.value)} r={2} />)}
      <text x={W - PAD} y={10} textAnchor="end">{max}</text>
      <text x={W - PAD} y={H - 1} textAnchor="end">{min}</text>
    </svg>
  );
}
