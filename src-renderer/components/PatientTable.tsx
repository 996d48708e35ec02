/**
 * A keyboard-first list of patients: the search box keeps focus, ArrowUp/ArrowDown move the
 * selection (aria-activedescendant), Enter opens it. Mouse: click selects, the name opens.
 */
import { useState, type KeyboardEvent } from 'react';
import type { PatientSummary } from '../../src-shared/api/types';
import { ACCESS_LABEL, summaryName } from './patient-format';
import { isAccessible } from '../../src-shared/access/evaluate';

interface Props {
  id: string;
  caption: string;
  patients: PatientSummary[];
  onOpen(p: PatientSummary): void;
  selected: number;
  onSelect(i: number): void;
}

export function usePatientKeys(count: number, onEnter: (index: number) => void) {
  const [active, setActive] = useState(0);
  const index = Math.min(active, Math.max(0, count - 1));
  const onKeyDown = (e: KeyboardEvent) => {
    if (count === 0) return;
    if (e.key === 'ArrowDown') setActive(Math.min(index + 1, count - 1));
    else if (e.key === 'ArrowUp') setActive(Math.max(index - 1, 0));
    else if (e.key === 'Enter') onEnter(index);
    else return;
    e.preventDefault();
  };
  return { index, setActive, onKeyDown };
}

export function PatientTable({ id, caption, patients, onOpen, selected, onSelect }: Props) {
  if (patients.length === 0) return null;
  return (
    <table id={id} role="grid" aria-label={caption}>
      <thead>
        <tr><th scope="col">Name</th><th scope="col">Date of birth</th><th scope="col">MRN</th><th scope="col">Sex</th><th scope="col">Access</th></tr>
      </thead>
      <tbody>
        {patients.map((p, i) => (
          <tr
            key={p.id}
            id={`${id}-row-${i}`}
            className="clickable"
            aria-selected={i === selected}
            onClick={() => onSelect(i)}
            onDoubleClick={() => onOpen(p)}
          >
            <td><button type="button" className="link" onClick={() => onOpen(p)} tabIndex={-1}>{summaryName(p)}</button></td>
            <td>{p.birthDate ?? ''}</td>
            <td className="mono">{p.mrn ?? ''}</td>
            <td>{p.gender ?? ''}</td>
            <td>{isAccessible(p.access) ? ACCESS_LABEL[p.access] : <span className="badge danger">{ACCESS_LABEL[p.access]}</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
