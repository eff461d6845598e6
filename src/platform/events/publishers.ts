/**
 * The broker adapter EVENTS_BROKER names (README "Events"), or none: with no
 * broker, events stay in the outbox (`npm run events -- tail` reads them
 * there).
 */
import type { Logger } from "pino";
import type { EventsConfig } from "../../config.js";
import type { EventPublisher } from "./event.js";
import { createNatsPublisher } from "./nats-publisher.js";
import { createRedisPublisher } from "./redis-publisher.js";

export function createEventPublisher(config: EventsConfig, logger: Logger): EventPublisher | undefined {
  switch (config.broker) {
    case "redis":
      return createRedisPublisher({ url: config.redisUrl!, prefix: config.redisPrefix, maxLen: config.redisMaxLen, logger });
    case "nats":
      return createNatsPublisher({ servers: config.natsUrl!.split(","), replicas: config.natsReplicas, streamPrefix: config.natsPrefix, logger });
    case "none":
      return undefined;
  }
}
