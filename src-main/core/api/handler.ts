/**
 * The shape of a channel handler. A public handler runs without a session (login, status). A
 * guarded handler declares what the dispatcher checks BEFORE it runs, in this order:
 * session exists -> not locked -> the role may do this at all (`allow`) -> the patient is
 * accessible (`patient`) -> the input is valid. The handler then makes the exact checks that need
 * the parsed input (a scope's category filter, a record belonging to the patient).
 * Channels in LOCKED_CHANNELS (src-shared/api/channels.ts) skip only the lock check: they still
 * need a session, the role and the patient, so a locked visit keeps running and nothing else does.
 */
import type { PatientAccess, Role } from '../../../src-shared/access';
import type { Channel, ChannelOutput, ChannelParsedInput } from '../../../src-shared/api';
import type { AuditActor } from '../audit';
import type { UserSession } from '../session';
import type { ApiContext } from './context';

export interface PublicCall<C extends Channel> {
  input: ChannelParsedInput<C>;
  correlationId: string;
}

export interface GuardedCall<C extends Channel> extends PublicCall<C> {
  session: UserSession;
  actor: AuditActor;
  /** Set when the channel names a patient (`patient` not false). */
  access: PatientAccess | null;
}

type Awaitable<T> = T | Promise<T>;

export interface PublicHandler<C extends Channel> {
  public: true;
  run(ctx: ApiContext, call: PublicCall<C>): Awaitable<ChannelOutput<C>>;
}

export interface GuardedHandler<C extends Channel> {
  public?: false;
  /** Coarse permission from the role alone, checked before the input is even parsed. */
  allow(roles: readonly Role[]): boolean;
  /** Whether `input.patientId` names a patient the user must be able to access. */
  patient: 'required' | 'optional' | false;
  run(ctx: ApiContext, call: GuardedCall<C>): Awaitable<ChannelOutput<C>>;
}

export type Handler<C extends Channel> = PublicHandler<C> | GuardedHandler<C>;
export type HandlerTable = { [C in Channel]: Handler<C> };
