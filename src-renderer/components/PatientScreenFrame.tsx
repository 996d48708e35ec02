/** Every patient screen starts with the banner (name, DOB, MRN, allergies always visible). */
import type { ReactNode } from 'react';
import { useEhr } from '../app/app-context';
import { ChartBanner } from './ChartBanner';
import { useChartModel } from './useChartModel';
import type { ChartModel } from '../chart/chart-model';

export function PatientScreenFrame({ title, children }: { title: string; children: (model: ChartModel, patientId: string) => ReactNode }) {
  const patientId = useEhr((s) => s.patientId);
  const { model, access } = useChartModel();
  if (!model || !patientId) return <p className="empty">Loading chart…</p>;
  return (
    <div>
      <ChartBanner model={model} access={access} />
      <h1>{title}</h1>
      {children(model, patientId)}
    </div>
  );
}
