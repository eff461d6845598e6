/** An InventoryService client over the real Connect router, in memory, with the platform's wrapping. */
import { createValidator } from "@bufbuild/protovalidate";
import { createClient, createRouterTransport, type Client, type Code } from "@connectrpc/connect";
import pino from "pino";
import { InventoryService } from "../../../gen/inventory/v1/inventory_service_pb.js";
import { createInventoryModule, type InventoryModule } from "../../../src/inventory/module.js";
import { wrapService } from "../../../src/platform/handlers.js";
import type { Db } from "../../../src/platform/db.js";
import { errorInfoOf, fieldViolationsOf, preconditionViolationsOf, rpcFailure } from "../../support/rpc-errors.js";

export type InventoryClient = Client<typeof InventoryService>;

export function createInventoryRpc(db: Db, reservationTtlSeconds = 900): { module: InventoryModule; client: InventoryClient } {
  const logger = pino({ level: "silent" });
  const module = createInventoryModule({ db, logger, reservationTtlSeconds, sweepIntervalMs: 60_000, defaultDeadlineMs: 10_000 });
  const wrapped = wrapService(InventoryService, module.impl, { validator: createValidator(), logger }).impl;
  const transport = createRouterTransport(({ service }) => service(InventoryService, wrapped));
  return { module, client: createClient(InventoryService, transport) };
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
