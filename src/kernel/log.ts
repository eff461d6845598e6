/**
 * The one logger port: where app code (and the platform's background
 * runners) record what they did and what went wrong, as structured fields
 * then a message. A pino Logger is one as it is (platform/logger.ts makes
 * the process's); app/ layers depend on this, never on pino.
 */
export interface Log {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}
