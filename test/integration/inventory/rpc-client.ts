/** The app hosting only InventoryService (createApp, as in production) on a given database, called in process. */
import { asPermitted } from "../../support/auth.js";
import { createClient, type Client, type Code } from "@connectrpc/connect";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import type { InventoryModule } from "../../../src/inventory/module.js";
import type { TestDatabase } from "../../support/db.js";
import { errorInfoOf, fieldViolationsOf, preconditionViolationsOf, rpcFailure } from "../../support/rpc-errors.js";
import { startTestStack } from "../../support/servers.js";

export type InventoryClient = Client<typeof InventoryService>;

export interface InventoryRpc {
  readonly module: InventoryModule;
  readonly client: InventoryClient;
  /** Stops the app; the database stays (its owner disposes it). */
  close(): Promise<void>;
}

export async function createInventoryRpc(database: TestDatabase, reservationTtlSeconds = 900): Promise<InventoryRpc> {
  const stack = await startTestStack({
    database,
    // A minute per call: the race tests queue 150–200 calls on a few product rows, and on a loaded
    // machine the default 5 s deadline would turn that queue into OVERLOADED refusals (admission),
    // which is not what they test.
    config: { services: ["inventory"], reservationTtlSeconds, reservationSweepMs: 60_000, defaultDeadlineMs: 60_000 },
  });
  const client = createClient(InventoryService, asPermitted(stack.transport));
  return { module: stack.app.modules.inventory!, client, close: () => stack.close() };
}

export interface WireError {
  readonly code: Code;
  readonly reason: string | undefined;
  readonly metadata: Record<string, string>;
  readonly fields: string[];
  readonly violations: { type: string; subject: string; description: string }[];
}

/** The ConnectError a call fails with, decoded (fails the test if it succeeds). */
export async function wireError(call: Promise<unknown>): Promise<WireError> {
  const err = await rpcFailure(call);
  const info = errorInfoOf(err);
  return {
    code: err.code,
    reason: info?.reason,
    metadata: { ...info?.metadata },
    fields: fieldViolationsOf(err).map((v) => v.field),
    violations: preconditionViolationsOf(err).map(({ type, subject, description }) => ({ type, subject, description })),
  };
}
