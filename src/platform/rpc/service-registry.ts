/**
 * The services one process hosts, each wrapped once (wrapService) as it is
 * registered. The composition root registers every hosted module, then seals
 * the registry before anything is served: every transport serves the sealed
 * registrations, and the in-process transport looks methods up here when a
 * call is made. So the order in which modules register does not matter, and
 * a call can never find a half-filled registry: calling before `seal` (or
 * registering after) fails loudly.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { wrapService, type HandlerDeps, type RpcImpl, type ServiceRegistration } from "./handlers.js";

export type UnaryHandler = (req: unknown, ctx: HandlerContext) => Promise<unknown>;

export interface ServiceRegistry {
  /** Wraps and adds a service; before `seal` only. */
  register<S extends DescService>(service: S, impl: RpcImpl<S>): void;
  /** No more services: from now on the registry can be served and called. */
  seal(): void;
  readonly sealed: boolean;
  /** Every registration, for the servers; after `seal` only. */
  registrations(): readonly ServiceRegistration[];
  /** The wrapped implementation of a unary method, undefined when not hosted; after `seal` only. */
  unary(method: DescMethod): UnaryHandler | undefined;
}

export function createServiceRegistry(deps: HandlerDeps): ServiceRegistry {
  const regs: ServiceRegistration[] = [];
  const unaries = new Map<DescMethod, UnaryHandler>();
  let sealed = false;
  const ensureSealed = () => {
    if (!sealed) throw new Error("the service registry is used before every service was registered (seal it first)");
  };
  return {
    register(service, impl) {
      if (sealed) throw new Error(`${service.typeName} registered after the registry was sealed`);
      if (regs.some((r) => r.service.typeName === service.typeName)) throw new Error(`${service.typeName} registered twice`);
      const reg = wrapService(service, impl, deps);
      regs.push(reg as unknown as ServiceRegistration);
      for (const method of service.methods) {
        if (method.methodKind !== "unary") continue;
        const fn = (reg.impl as Record<string, UnaryHandler>)[method.localName];
        unaries.set(method, fn.bind(reg.impl));
      }
    },
    seal() {
      sealed = true;
    },
    get sealed() {
      return sealed;
    },
    registrations() {
      ensureSealed();
      return regs;
    },
    unary(method) {
      ensureSealed();
      return unaries.get(method);
    },
  };
}
