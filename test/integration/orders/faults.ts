/**
 * Failure injection for dependency implementations: a switchboard of faults
 * keyed by method local name ("commitReservation", "getCustomer", ...).
 * "hang" holds the call until the call ends on the callee's side (it then
 * fails CANCELED) or until `clear()` (it then fails UNAVAILABLE): either way
 * the work is never done — a dependency that stopped answering mid-call.
 */
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import type { CallContext } from "../../../src/kernel/call-context.js";

export type Fault = { kind: "unavailable" } | { kind: "delay"; ms: number } | { kind: "hang" };

export function createFaults() {
  const active = new Map<string, Fault>();
  const entered = new Map<string, number>();
  let hung: (() => void)[] = [];

  const hang = (method: string, cx: CallContext | undefined) =>
    new Promise<never>((_, reject) => {
      const onAbort = () => reject(new ConnectError(`${method} hung up (injected)`, Code.Canceled));
      hung.push(() => {
        cx?.signal.removeEventListener("abort", onAbort);
        reject(new ConnectError(`${method} died (injected)`, Code.Unavailable));
      });
      if (cx?.signal.aborted) onAbort();
      cx?.signal.addEventListener("abort", onAbort, { once: true });
    });

  const transformImpl = (_service: DescService, impl: object): object =>
    new Proxy(impl, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof prop !== "string" || typeof value !== "function") return value;
        return async (...args: unknown[]) => {
          const fault = active.get(prop);
          if (fault) entered.set(prop, (entered.get(prop) ?? 0) + 1);
          if (fault?.kind === "unavailable") throw new ConnectError(`${prop} is down (injected)`, Code.Unavailable);
          if (fault?.kind === "delay") await new Promise((r) => setTimeout(r, fault.ms));
          if (fault?.kind === "hang") await hang(prop, args[1] as CallContext | undefined);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    transformImpl,
    set: (method: string, fault: Fault) => void active.set(method, fault),
    /** Calls of `method` that met its fault so far. */
    entered: (method: string) => entered.get(method) ?? 0,
    /** Removes every fault; hung calls fail without doing their work. */
    clear: () => {
      active.clear();
      entered.clear();
      const waiting = hung;
      hung = [];
      waiting.forEach((release) => release());
    },
  };
}
