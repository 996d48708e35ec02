/**
 * The shapes of PHI the renderer holds: the contract's own output types (src-shared/api), named
 * for the slice that keeps them. One adapter point, so a contract change shows up here first.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { AuditEntryView, Chart, ConflictSummary, PatientSummary, RecordingAccess, ReviewEpisode, ReviewItem } from '../../src-shared/api/types';

export type PatientRow = PatientSummary;
export type ChartView = Chart;
/** A conflict with both versions (the contract's `mine` and `theirs`), for the side-by-side screen. */
export interface ConflictView {
  summary: ConflictSummary;
  local: Resource;
  server: Resource;
}
export type AuditRow = AuditEntryView;
export type ReviewQueueRow = ReviewItem;
export type ReviewEpisodeView = ReviewEpisode;
export type RecordingAccessRow = RecordingAccess;
