import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ErrorInfoSchema, RetryInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { failedPrecondition, resourceExhausted, unavailable } from "../../../src/kernel/errors.js";
import { toGrpcStatus } from "../../../src/platform/rpc/grpc-server.js";
import { domainToConnectError } from "../../../src/platform/rpc/rpc-errors.js";

describe("retry hints", () => {
  it("an error with retryAfterMs carries RetryInfo, retry-after and grpc-retry-pushback-ms", () => {
    const ce = domainToConnectError(resourceExhausted("RATE_LIMITED", "slow down", 1_250));
    expect(ce.code).toBe(Code.ResourceExhausted);
    const [retry] = ce.findDetails(RetryInfoSchema);
    expect(retry?.retryDelay).toMatchObject({ seconds: 1n, nanos: 250_000_000 });
    expect(ce.findDetails(ErrorInfoSchema)[0]?.reason).toBe("RATE_LIMITED");
    expect(ce.metadata.get("retry-after")).toBe("2");
    expect(ce.metadata.get("grpc-retry-pushback-ms")).toBe("1250");
    const status = toGrpcStatus(ce);
    expect(status.metadata?.get("grpc-retry-pushback-ms")).toEqual(["1250"]);
  });

  it("UNAVAILABLE takes a retry hint too; errors without one send none", () => {
    const shed = domainToConnectError(unavailable("OVERLOADED", "busy", undefined, 40));
    expect(shed.findDetails(RetryInfoSchema)[0]?.retryDelay).toMatchObject({ seconds: 0n, nanos: 40_000_000 });
    expect(shed.metadata.get("retry-after")).toBe("1");
    const plain = domainToConnectError(failedPrecondition("X", "no"));
    expect(plain.findDetails(RetryInfoSchema)).toEqual([]);
    expect(plain.metadata.get("retry-after")).toBeNull();
    expect(toGrpcStatus(plain).metadata?.get("grpc-retry-pushback-ms")).toEqual([]);
  });
});

describe("answers are built without a stack trace", () => {
  it("a domain error's ConnectError (with and without a retry hint) has no frames, and the trace limit is restored", () => {
    const before = Error.stackTraceLimit;
    for (const e of [failedPrecondition("ILLEGAL_TRANSITION", "no"), resourceExhausted("RATE_LIMITED", "slow down", 100)]) {
      const ce = domainToConnectError(e);
      expect(ce.stack ?? "").not.toMatch(/\n\s+at /);
      expect(ce.message).toContain(e.message);
    }
    expect(Error.stackTraceLimit).toBe(before);
    expect(new Error("ours").stack).toMatch(/\n\s+at /);
  });
});
