/**
 * Wraps a service implementation once, for every transport: requests are
 * validated against the protovalidate rules in the protos (request types
 * without any rule skip the validator), and whatever the
 * implementation throws is mapped by rpc-errors. Both the Connect router and
 * the grpc-js server serve the wrapped object, so the behaviour cannot drift
 * between transports.
 */
import type { DescMessage, DescMethod, DescService, MessageShape } from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Validator } from "@bufbuild/protovalidate";
import type { Logger } from "pino";
import { invalidArgument } from "../kernel/errors.js";
import { toConnectError } from "./rpc-errors.js";
import { hasValidationRules } from "./validation-rules.js";

export interface HandlerDeps {
  readonly validator: Validator;
  readonly logger: Logger;
}

type AnyImpl = (req: unknown, ctx: HandlerContext) => unknown;

/** A service descriptor with its wrapped implementation, ready to serve. */
export interface ServiceRegistration<S extends DescService = DescService> {
  readonly service: S;
  readonly impl: ServiceImpl<S>;
}

export function validateRequest<D extends DescMessage>(
  validator: Validator,
  schema: D,
  message: MessageShape<D>,
): void {
  const result = validator.validate(schema, message);
  if (result.kind === "valid") return;
  if (result.kind === "invalid") {
    const fieldViolations = result.violations.map((v) => ({
      field: pathToString(v.field),
      description: v.message,
    }));
    const fields = [...new Set(fieldViolations.map((v) => v.field))].join(", ");
    throw invalidArgument("INVALID_REQUEST", `invalid ${fields}`, fieldViolations);
  }
  throw result.error; // a rule that failed to compile or run: a bug of ours → INTERNAL
}

export function wrapService<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  deps: HandlerDeps,
): ServiceRegistration<S> {
  const wrapped: Record<string, unknown> = {};
  for (const method of service.methods) {
    const fn = (impl as Record<string, AnyImpl>)[method.localName];
    if (typeof fn !== "function") throw new Error(`${service.typeName} lacks ${method.name}`);
    const bound = fn.bind(impl);
    wrapped[method.localName] =
      method.methodKind === "server_streaming"
        ? wrapServerStreaming(method, bound, deps)
        : wrapUnary(method, bound, deps);
  }
  return { service, impl: wrapped as ServiceImpl<S> };
}

/** Validates a request of `method`, or nothing when its type has no rule at all. */
function requestValidator(method: DescMethod, deps: HandlerDeps) {
  const input = method.input;
  if (!hasValidationRules(input)) return undefined;
  return (req: MessageShape<DescMessage>) => validateRequest(deps.validator, input, req);
}

function wrapUnary(method: DescMethod, fn: AnyImpl, deps: HandlerDeps) {
  const validate = requestValidator(method, deps);
  return async (req: MessageShape<DescMessage>, ctx: HandlerContext) => {
    try {
      validate?.(req);
      return await fn(req, ctx);
    } catch (err) {
      throw toConnectError(err, deps.logger, method.name);
    }
  };
}

function wrapServerStreaming(method: DescMethod, fn: AnyImpl, deps: HandlerDeps) {
  const validate = requestValidator(method, deps);
  return async function* (req: MessageShape<DescMessage>, ctx: HandlerContext) {
    try {
      validate?.(req);
      yield* fn(req, ctx) as AsyncIterable<unknown>;
    } catch (err) {
      throw toConnectError(err, deps.logger, method.name);
    }
  };
}
