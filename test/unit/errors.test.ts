import { describe, expect, it } from 'vitest';
import { EhrError, ErrorCode, isEhrError } from '../../src-shared/errors';

describe('EhrError', () => {
  it('serialises to code, message and detail only — no stack crosses a boundary', () => {
    const err = new EhrError(ErrorCode.FORBIDDEN, 'You are not on this patient’s care team.', { patientId: 'p-1' });
    const wire = JSON.parse(JSON.stringify(err));
    expect(wire).toEqual({ code: 'FORBIDDEN', message: 'You are not on this patient’s care team.', detail: { patientId: 'p-1' } });
    expect(JSON.stringify(err)).not.toContain('at ');
    expect(isEhrError(err)).toBe(true);
    expect(isEhrError(new Error('x'))).toBe(false);
  });
});
