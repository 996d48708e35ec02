/**
 * The server's log: one JSON line per request or event, built only from fields chosen here —
 * method, route pattern, status, timing, error code, ids. Never a body, a query value, a header
 * value or an error message from a driver, so PHI has no way in.
 */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  event: string;
  reqId?: string;
  method?: string;
  route?: string;
  status?: number;
  ms?: number;
  code?: string;
  errorName?: string;
  /** Telemedicine: the visit id and which side's socket (ids only; never SDP or ICE). */
  visitId?: string;
  side?: string;
}

export const stdoutLog = (line: LogLine): void => {
  process.stdout.write(`${JSON.stringify({ at: new Date().toISOString(), ...line })}\n`);
};
