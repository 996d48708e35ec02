/** The patient banner: name, DOB, MRN, sex and allergies, at the top of every patient screen. */
import type { ChartModel } from '../chart/chart-model';

export function ChartBanner({ model, access }: { model: ChartModel; access: string }) {
  return (
    <header className="chart-banner" aria-label="Patient banner" data-testid="chart-banner">
      <span className="name" data-phi>{model.name}</span>
      <span>DOB <strong>{model.birthDate}</strong></span>
      <span>MRN <strong className="mono">{model.mrn}</strong></span>
      {model.gender && <span>Sex <strong>{model.gender}</strong></span>}
      {access === 'break-glass' && <span className="badge">Emergency access</span>}
      <span className={`allergies${model.allergies.length ? '' : ' none'}`} data-testid="banner-allergies">
        Allergies:
        {model.allergies.length === 0
          ? ' none recorded'
          : model.allergies.map((a) => <span key={a.id} className="allergy-chip">{a.text}</span>)}
      </span>
    </header>
  );
}
