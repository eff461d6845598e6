/**
 * The one HandlerContext of calls that our own transports take: grpc-js
 * (grpc-server.ts), the Connect unary fast path (connect-unary.ts) and the
 * in-process transport (in-process-transport.ts). Calls that connect-node
 * serves get connect-node's own context. Either way wrapService
 * (handlers.ts) turns the context into the use cases' CallContext, once.
 *
 * Built lazily, because most calls never look: the request headers view, the
 * AbortController and the deadline timer are made only when the
 * implementation (or wrapService) touches them. What differs per transport —
 * protocol name, URL, how headers are read, how to notice the caller went
 * away — is a small `CallOrigin`.
 *
 * The signal aborts when the deadline passes (DEADLINE_EXCEEDED), when the
 * caller goes away (the origin's reason), or when the call ends (`end`).
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextKey, type ContextValues, type HandlerContext } from "@connectrpc/connect";

/**
 * The abort reason of a call that ended (answered, or its caller went away).
 * One shared instance: `controller.abort()` without a reason builds a new
 * DOMException with a captured stack each time, ~3% of the server's CPU per
 * CreateOrder when every call's signal was aborted that way.
 */
export const CALL_ENDED: Error = new DOMException("the call has ended", "AbortError");

/** What one transport knows of an incoming call. */
export interface CallOrigin {
  readonly protocolName: string;
  readonly requestMethod: string;
  url(): string;
  /** A read-only view of the request headers (built once, on first use). */
  headers(): Headers;
  /** Calls `gone` once when the caller goes away (at once when it already has). */
  onGone?(gone: (reason: unknown) => void): void;
}

export class CallHandlerContext implements HandlerContext {
  readonly service: DescService;
  private readonly deadline: number | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private endReason: unknown;
  private reqHeader: Headers | undefined;
  private resHeader: Headers | undefined;
  private resTrailer: Headers | undefined;

  constructor(
    readonly method: DescMethod,
    private readonly origin: CallOrigin,
    /** Milliseconds the caller gave the call; undefined: no deadline. */
    timeoutMs: number | undefined,
    private ctxValues?: ContextValues,
    /** Response headers every answer starts with (connect's content-type). */
    private readonly initialResponseHeader?: Record<string, string>,
  ) {
    this.service = method.parent;
    this.deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  }

  get protocolName(): string {
    return this.origin.protocolName;
  }
  get requestMethod(): string {
    return this.origin.requestMethod;
  }
  get url(): string {
    return this.origin.url();
  }

  timeoutMs(): number | undefined {
    return this.deadline === undefined ? undefined : Math.max(0, this.deadline - Date.now());
  }

  get signal(): AbortSignal {
    return (this.controller ??= this.createController()).signal;
  }

  private createController(): AbortController {
    const controller = new AbortController();
    if (this.ended) {
      controller.abort(this.endReason ?? CALL_ENDED);
      return controller;
    }
    if (this.deadline !== undefined) {
      const timedOut = () => controller.abort(new ConnectError("the operation timed out", Code.DeadlineExceeded));
      const left = this.deadline - Date.now();
      if (left <= 0) timedOut();
      else this.timer = setTimeout(timedOut, left);
    }
    if (!controller.signal.aborted) this.origin.onGone?.((reason) => controller.abort(reason));
    return controller;
  }

  /** The call is over (with `reason` when it failed): the signal aborts, the deadline timer stops. */
  end(reason?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.endReason = reason;
    clearTimeout(this.timer);
    this.controller?.abort(reason ?? CALL_ENDED);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  get requestHeader(): Headers {
    return (this.reqHeader ??= this.origin.headers());
  }
  get responseHeader(): Headers {
    return (this.resHeader ??= new Headers(this.initialResponseHeader));
  }
  get responseTrailer(): Headers {
    return (this.resTrailer ??= new Headers());
  }
  /** The response headers and trailers the implementation set, if it touched them. */
  touchedHeaders(): { header?: Headers; trailer?: Headers } {
    return { header: this.resHeader, trailer: this.resTrailer };
  }
  get values(): ContextValues {
    return (this.ctxValues ??= createContextValues());
  }
  /** A context value without creating the values of a call that has none (the common case). */
  peekValue<T>(key: ContextKey<T>): T {
    return this.ctxValues ? this.ctxValues.get(key) : key.defaultValue;
  }
}
