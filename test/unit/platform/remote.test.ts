import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ErrorInfoSchema, PreconditionFailureSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { DomainError } from "../../../src/kernel/errors.js";
import { ANONYMOUS } from "../../../src/kernel/principal.js";
import { callOptions, fromRemoteError } from "../../../src/platform/rpc/remote.js";

describe("callOptions", () => {
  it("gives a dependency call the caller's remaining deadline minus the margin", () => {
    const cx = { deadline: Date.now() + 1000, signal: new AbortController().signal, actor: "ops@shop", principal: ANONYMOUS };
    const opts = callOptions(cx, { marginMs: 100 });
    expect(opts.timeoutMs).toBeGreaterThan(850);
    expect(opts.timeoutMs).toBeLessThanOrEqual(900);
    expect(opts.signal).toBe(cx.signal);
    expect(opts.headers).toEqual({ "x-actor": "ops@shop" });
  });

  it("never passes a zero or negative timeout", () => {
    const cx = { deadline: Date.now() - 10, signal: new AbortController().signal, actor: "", principal: ANONYMOUS };
    expect(callOptions(cx, { marginMs: 50 }).timeoutMs).toBe(1);
  });
});

describe("fromRemoteError", () => {
  it("keeps the callee's reason and precondition details", () => {
    const remote = new ConnectError("short", Code.FailedPrecondition, undefined, [
      { desc: ErrorInfoSchema, value: { reason: "INSUFFICIENT_STOCK", domain: "order-service" } },
      { desc: PreconditionFailureSchema, value: { violations: [{ type: "INSUFFICIENT_STOCK", subject: "products/1", description: "2 > 1" }] } },
    ]);
    const e = fromRemoteError(remote, "inventory") as DomainError;
    expect(e).toBeInstanceOf(DomainError);
    expect([e.kind, e.reason]).toEqual(["FAILED_PRECONDITION", "INSUFFICIENT_STOCK"]);
    expect(e.options.preconditionViolations?.[0]?.subject).toBe("products/1");
  });

  it.each([
    [Code.Unavailable, "UNAVAILABLE", "INVENTORY_UNAVAILABLE"],
    [Code.DeadlineExceeded, "DEADLINE_EXCEEDED", "INVENTORY_DEADLINE_EXCEEDED"],
    [Code.Internal, "UNAVAILABLE", "INVENTORY_UNAVAILABLE"],
  ])("turns code %s into %s/%s", (code, kind, reason) => {
    const e = fromRemoteError(new ConnectError("x", code), "inventory") as DomainError;
    expect([e.kind, e.reason]).toEqual([kind, reason]);
  });

  it("takes a broken connection (connect-node: ECONNRESET as ABORTED, no ErrorInfo) for UNAVAILABLE", () => {
    const reset = Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET", syscall: "read" });
    const e = fromRemoteError(new ConnectError("read ECONNRESET", Code.Aborted, undefined, undefined, reset), "inventory") as DomainError;
    expect([e.kind, e.reason]).toEqual(["UNAVAILABLE", "INVENTORY_UNAVAILABLE"]);
    const bare = fromRemoteError(new ConnectError("stream destroyed", Code.Aborted), "inventory") as DomainError;
    expect([bare.kind, bare.reason]).toEqual(["UNAVAILABLE", "INVENTORY_UNAVAILABLE"]);
  });

  it("takes any code caused by a system error for UNAVAILABLE", () => {
    const cause = Object.assign(new Error("stream error"), { code: "ERR_HTTP2_STREAM_ERROR" });
    const e = fromRemoteError(new ConnectError("x", Code.FailedPrecondition, undefined, undefined, cause), "inventory") as DomainError;
    expect([e.kind, e.reason]).toEqual(["UNAVAILABLE", "INVENTORY_UNAVAILABLE"]);
  });

  it("keeps a real ABORTED answered by the callee, with its reason", () => {
    const remote = new ConnectError("changed", Code.Aborted, undefined, [
      { desc: ErrorInfoSchema, value: { reason: "ETAG_MISMATCH", domain: "order-service", metadata: { orderId: "1" } } },
    ]);
    const e = fromRemoteError(remote, "inventory") as DomainError;
    expect([e.kind, e.reason, e.options.metadata]).toEqual(["ABORTED", "ETAG_MISMATCH", { orderId: "1" }]);
  });
});
