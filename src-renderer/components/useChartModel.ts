/** The open chart as a display model, recomputed only when the chart object changes. */
import { useMemo } from 'react';
import { useEhr } from '../app/app-context';
import { chartModel, type ChartModel } from '../chart/chart-model';

export function useChartModel(): { model: ChartModel | null; access: string } {
  const chart = useEhr((s) => s.chart);
  const model = useMemo(() => (chart ? chartModel(chart) : null), [chart]);
  return { model, access: chart?.access ?? 'none' };
}
