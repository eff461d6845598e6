import pino, { type Logger } from "pino";

export type { Logger };

/** JSON logs to stdout; one root logger, handed down by composition. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "order-service" } });
}
