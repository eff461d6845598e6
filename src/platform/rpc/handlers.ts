/**
 * The one place per-call concerns live. wrapService turns a service's
 * RpcImpl — methods of `(request, CallContext)` — into the HandlerContext
 * shape every transport calls: grpc-js (grpc-server.ts), connect-node and the
 * Connect fast path (http-server.ts, connect-unary.ts) and the in-process
 * transport (in-process-transport.ts). Per call, in this order, it
 * authenticates the caller (auth/authenticator.ts), applies the method's
 * access rule from the protos (access.ts: default deny), counts the call
 * against the caller's rate limit (rate-limit.ts), validates the
 * request against the protovalidate rules (request types without any rule
 * skip the validator), clears staff-only answer fields for customers
 * (staff-only.ts), builds the CallContext (principal, actor, deadline:
 * the caller's or `defaultDeadlineMs`; a stream's, the caller's or none), answers DEADLINE_EXCEEDED when a
 * caller-given deadline passes first, and maps whatever the implementation
 * throws (rpc-errors.ts). With tracing on, the call runs inside a SERVER
 * span (tracing.ts) whose parent is the caller's trace. At shutdown (shutdown.ts) it ends server streams
 * with UNAVAILABLE / SHUTTING_DOWN when draining begins and fires the signal
 * of unary calls still running when the grace period is over. Behaviour
 * cannot drift between transports because there is nothing per transport.
 */
import type {
  DescMessage,
  DescMethod,
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import type { Validator } from "@bufbuild/protovalidate";
import type { Logger } from "pino";
import type { CallContext } from "../../kernel/call-context.js";
import { DomainError, deadlineExceeded, invalidArgument } from "../../kernel/errors.js";
import { authorize, ruleOf, type MethodRule } from "../access.js";
import type { AdmissionControl } from "../admission/policy.js";
import type { Authenticator, Caller } from "../auth/authenticator.js";
import { toConnectError } from "./rpc-errors.js";
import { shuttingDown, type ShutdownSignals } from "../shutdown.js";
import type { RateLimiter } from "../rate-limit.js";
import type { Metrics } from "../metrics.js";
import { traceCalls } from "../tracing.js";
import type { Tracer } from "@opentelemetry/api";
import { hasValidationRules } from "./validation-rules.js";
import { seesStaffOnly, staffOnlyRedactor, type Redactor } from "./staff-only.js";

export interface HandlerDeps {
  readonly validator: Validator;
  readonly logger: Logger;
  /** Deadline of a call whose caller gave none (DEFAULT_DEADLINE_MS). */
  readonly defaultDeadlineMs: number;
  readonly authenticator: Authenticator;
  /** The process's drain (app.ts); without it calls never hear of a shutdown. */
  readonly shutdown?: ShutdownSignals;
  /** Per-principal rate limits (rate-limit.ts); absent: calls are not limited. */
  readonly rateLimiter?: RateLimiter;
  /** Priority admission in front of database work (admission/policy.ts); absent: every call runs at once. */
  readonly admission?: AdmissionControl;
  /** Call counts and durations by method, code and transport (metrics.ts); absent: nothing recorded. */
  readonly metrics?: Metrics;
  /** A SERVER span per call (tracing.ts); absent (tracing off): no span, no context switch. */
  readonly tracer?: Tracer;
}

/** The implementation of one method: the request and the call's context, nothing of the transport. */
export type RpcMethodImpl<M extends DescMethod> =
  M extends DescMethodUnary<infer I, infer O>
    ? (req: MessageShape<I>, cx: CallContext) => Promise<MessageInitShape<O>> | MessageInitShape<O>
    : M extends DescMethodServerStreaming<infer I, infer O>
      ? (req: MessageShape<I>, cx: CallContext) => AsyncIterable<MessageInitShape<O>>
      : never;

/** A service's implementation as its rpc/ layer writes it. */
export type RpcImpl<S extends DescService> = { [K in keyof S["method"]]: RpcMethodImpl<S["method"][K]> };

type AnyImpl = (req: unknown, cx: CallContext) => unknown;

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
  impl: RpcImpl<S>,
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

/**
 * The CallContext of a call: the caller's deadline or the default; the signal
 * is taken from the handler context only when a use case asks for it (the
 * transports build it lazily, and most reads never look), joined with the
 * shutdown's signal `until` when there is one.
 */
function callContextOf(ctx: HandlerContext, defaultDeadlineMs: number, caller: Caller, until?: AbortSignal): CallContext {
  const timeout = ctx.timeoutMs();
  let signal: AbortSignal | undefined;
  return {
    deadline: Date.now() + (timeout === undefined ? defaultDeadlineMs : timeout),
    get signal() {
      return (signal ??= until ? AbortSignal.any([ctx.signal, until]) : ctx.signal);
    },
    principal: caller.principal,
    actor: caller.actor,
  };
}

/** Authenticates, authorizes and validates one call: what every method does before its implementation runs. */
function admission(method: DescMethod, deps: HandlerDeps) {
  const rule: MethodRule | undefined = ruleOf(method);
  if (!rule) deps.logger.warn({ method: `${method.parent.typeName}/${method.name}` }, "no access rule: every call will be refused");
  const validate = requestValidator(method, deps);
  // A stream has the caller's deadline or none: DEFAULT_DEADLINE_MS would end every long-lived
  // stream; each streaming use case bounds its own life (WatchOrder: WATCH_MAX_LIFETIME_MS).
  const defaultDeadlineMs = method.methodKind === "server_streaming" ? Number.POSITIVE_INFINITY : deps.defaultDeadlineMs;
  const limit = deps.rateLimiter?.forMethod(method);
  return async (req: MessageShape<DescMessage>, ctx: HandlerContext, until?: AbortSignal): Promise<CallContext> => {
    const caller = await deps.authenticator.authenticate(ctx);
    authorize(rule, caller.principal, req);
    // Before validation and any database work; an unlimited caller costs no promise.
    const limited = limit?.(caller.principal, ctx);
    if (limited) await limited;
    validate?.(req);
    return callContextOf(ctx, defaultDeadlineMs, caller, until);
  };
}

/** A unary call; when admission gates the method, it holds a slot while its implementation runs (released however it ends). */
function wrapUnary(method: DescMethod, fn: AnyImpl, deps: HandlerDeps) {
  const admit = admission(method, deps);
  const gate = deps.admission?.forMethod(method);
  const redact = staffOnlyRedactor(method.output);
  const visible = redact
    ? (result: unknown, cx: CallContext) =>
        seesStaffOnly(cx.principal) ? result : result instanceof Promise ? result.then(redact) : redact(result)
    : (result: unknown) => result;
  const answer = (req: MessageShape<DescMessage>, cx: CallContext, ctx: HandlerContext) => {
    const result = visible(fn(req, cx), cx);
    return ctx.timeoutMs() === undefined ? result : untilDeadline(result, ctx.signal);
  };
  const metrics = deps.metrics?.forMethod(method);
  const tracing = deps.tracer && traceCalls(deps.tracer, method);
  const call = async (req: MessageShape<DescMessage>, ctx: HandlerContext) => {
    const began = metrics ? performance.now() : 0;
    const transport = metrics ? ctx.protocolName : "";
    metrics?.started(transport);
    let code = 0;
    try {
      const cx = await admit(req, ctx, deps.shutdown?.calls);
      if (!gate) return await answer(req, cx, ctx);
      const entered = gate.enter(req, cx, ctx);
      const started = typeof entered === "number" ? entered : await entered;
      try {
        return await answer(req, cx, ctx);
      } finally {
        gate.leave(started);
      }
    } catch (err) {
      const ce = toConnectError(err, deps.logger, method.name);
      code = ce.code;
      throw ce;
    } finally {
      metrics?.handled(transport, code, (performance.now() - began) / 1000);
    }
  };
  return tracing ? (req: MessageShape<DescMessage>, ctx: HandlerContext) => tracing.unary(ctx, () => call(req, ctx)) : call;
}

/**
 * The answer, or DEADLINE_EXCEEDED as soon as the caller's deadline passes
 * (the call's signal aborts): every transport answers then, as connect-node
 * and grpc-js clients give up then. What the implementation still does runs
 * out on its own; its database work is bounded by the same deadline
 * (bounded.ts), so none of it commits after this answer. Only calls whose
 * caller gave a deadline pay for the signal this needs.
 */
function untilDeadline(answer: unknown, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      const reason: unknown = signal.reason;
      const timedOut = reason instanceof ConnectError && reason.code === Code.DeadlineExceeded;
      reject(timedOut ? deadlineExceeded("DEADLINE_EXCEEDED", "the call's deadline passed") : reason);
    };
    // Handled first, whatever happens next: the implementation's failure after the answer is no unhandled rejection.
    Promise.resolve(answer).then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A server stream ends with UNAVAILABLE / SHUTTING_DOWN (and a RetryInfo)
 * once draining begins, however the implementation noticed: it returned on
 * its aborted signal, or threw the abort. It holds an admission slot only
 * until its first message (for WatchOrder: the first read); waiting for
 * changes afterwards costs the database nothing.
 */
function wrapServerStreaming(method: DescMethod, fn: AnyImpl, deps: HandlerDeps) {
  const admit = admission(method, deps);
  const gate = deps.admission?.forMethod(method);
  const ending = deps.shutdown?.streams;
  const metrics = deps.metrics?.forMethod(method);
  const tracing = deps.tracer && traceCalls(deps.tracer, method);
  const redact = staffOnlyRedactor(method.output);
  const visible = (stream: AsyncIterable<unknown>, cx: CallContext) =>
    redact && !seesStaffOnly(cx.principal) ? redacted(stream, redact) : stream;
  const call = async function* (req: MessageShape<DescMessage>, ctx: HandlerContext) {
    const began = metrics ? performance.now() : 0;
    const transport = metrics ? ctx.protocolName : "";
    metrics?.started(transport);
    let code = 0;
    try {
      if (ending?.aborted) throw shuttingDown();
      const cx = await admit(req, ctx, ending);
      const stream = visible(fn(req, cx) as AsyncIterable<unknown>, cx);
      if (!gate) {
        yield* stream;
      } else {
        const entered = gate.enter(req, cx, ctx);
        const started = typeof entered === "number" ? entered : await entered;
        const it = stream[Symbol.asyncIterator]();
        try {
          let first: IteratorResult<unknown>;
          try {
            first = await it.next();
          } finally {
            gate.leave(started);
          }
          if (!first.done) {
            yield first.value;
            yield* { [Symbol.asyncIterator]: () => it };
          }
        } finally {
          await it.return?.(); // a caller gone between messages still ends the implementation
        }
      }
      if (ending?.aborted) throw shuttingDown();
    } catch (err) {
      const ce = toConnectError(ending?.aborted && !(err instanceof DomainError) ? shuttingDown() : err, deps.logger, method.name);
      code = ce.code;
      throw ce;
    } finally {
      metrics?.handled(transport, code, (performance.now() - began) / 1000);
    }
  };
  return tracing ? (req: MessageShape<DescMessage>, ctx: HandlerContext) => tracing.stream(ctx, () => call(req, ctx)) : call;
}

/** Each message of `stream` without its staff-only fields; ending it ends `stream`. */
async function* redacted(stream: AsyncIterable<unknown>, redact: Redactor) {
  for await (const message of stream) yield redact(message);
}
