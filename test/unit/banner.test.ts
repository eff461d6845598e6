import { describe, expect, it } from "vitest";
import { banner } from "../../src/banner.js";
import { loadConfig } from "../../src/config.js";
import type { Auth } from "../../src/platform/auth/setup.js";

/** No development key: the banner prints no tokens, which these cases do not need. */
const noDevKey = { devSigner: undefined, devKeys: undefined } as unknown as Auth;
const ports = { grpcPort: 50051, httpPort: 8080 };

async function eventsLine(env: Record<string, string>): Promise<string> {
  const text = await banner(loadConfig({ DATA_DIR: "/tmp/banner-test", ...env }), noDevKey, ports);
  const line = text.split("\n").find((l) => l.trimStart().startsWith("Events:"));
  expect(line, text).toBeDefined();
  return line!;
}

describe("the start-up banner's events line", () => {
  it("names the Redis streams, never the URL (it may hold a password)", async () => {
    const line = await eventsLine({ REDIS_URL: "redis://user:s3cret@127.0.0.1:6379" });
    expect(line).toContain("Redis streams events:orders, events:inventory");
    expect(line).toContain("npm run events -- tail");
    expect(line).not.toContain("s3cret");
  });

  it("names the JetStream streams with their prefix", async () => {
    const line = await eventsLine({ NATS_URL: "nats://127.0.0.1:4222", EVENTS_NATS_PREFIX: "dev_" });
    expect(line).toContain("NATS JetStream DEV_ORDERS, DEV_INVENTORY");
  });

  it("says the events stay in the outbox with no broker, and how to see them", async () => {
    const line = await eventsLine({});
    expect(line).toContain("kept in the outbox");
    expect(line).toContain("npm run events -- tail --source outbox");
  });

  it("lists only the streams of the services this process hosts", async () => {
    const line = await eventsLine({ REDIS_URL: "redis://127.0.0.1:6379", SERVICES: "inventory" });
    expect(line).toContain("Redis streams events:inventory ");
  });
});
