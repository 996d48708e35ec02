/**
 * What the browser fixture needs from "main": exactly the workstation core's public face
 * (src-main/core/workstation.ts: invoke + onEvent), so the real core and the synthetic one used by
 * the UI benchmark plug in the same way.
 */
import type { ApiResult } from '../../src-shared/api/bridge';
import type { EhrEvent } from '../../src-shared/api/events';

export interface CorePort {
  invoke(channel: string, input: unknown): Promise<ApiResult<unknown>>;
  onEvent(listener: (event: EhrEvent) => void): () => void;
}
