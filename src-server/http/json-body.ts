/**
 * JSON body parser with a nesting-depth limit checked by a linear scan before JSON.parse, so a
 * deeply nested body is refused cheaply instead of costing recursion in the parser and validator.
 */
import type { FastifyInstance } from 'fastify';
import { EhrError, ErrorCode } from '../../src-shared/errors';

export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91 /* { [ */) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

export function installJsonParser(app: FastifyInstance, maxDepth: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string;
    if (jsonDepth(text) > maxDepth) {
      done(new EhrError(ErrorCode.INVALID, 'The request body is nested too deeply.', { maxDepth }), undefined);
      return;
    }
    // PostgreSQL text cannot hold NUL; refuse it here as bad input rather than fail in the driver.
    if (text.includes('\0') || /\\u0000/i.test(text)) {
      done(new EhrError(ErrorCode.INVALID, 'The request body contains NUL characters.'), undefined);
      return;
    }
    try {
      done(null, text.length ? JSON.parse(text) : undefined);
    } catch {
      done(new EhrError(ErrorCode.INVALID, 'The request body is not valid JSON.'), undefined);
    }
  });
}
