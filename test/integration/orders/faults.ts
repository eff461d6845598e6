/**
 * Failure injection for dependency implementations: a switchboard of faults
 * keyed by method local name ("commitReservation", "getCustomer", ...).
 */
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";

export type Fault = { kind: "unavailable" } | { kind: "delay"; ms: number };

export function createFaults() {
  const active = new Map<string, Fault>();
  const transformImpl = (_service: DescService, impl: object): object =>
    new Proxy(impl, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop !== "string" || typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          const fault = active.get(prop);
          if (fault?.kind === "unavailable") throw new ConnectError(`${prop} is down (injected)`, Code.Unavailable);
          if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.ms));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    transformImpl,
    set: (method: string, fault: Fault) => void active.set(method, fault),
    clear: () => active.clear(),
  };
}
