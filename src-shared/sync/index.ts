/** The sync wire protocol: zod schemas + inferred types for every route (see routes.ts for the table). */
export * from './common';
export * from './envelope';
export * from './auth';
export * from './devices';
export * from './sync';
export * from './keys';
export * from './audit';
export * from './break-glass';
export * from './admin';
export * from './privacy';
export * from './visits';
export * from './routes';
