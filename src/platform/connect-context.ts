/**
 * The HandlerContext of a call taken by the Connect unary fast path
 * (connect-unary.ts), with the semantics of connect-node's own context —
 * deadline from connect-timeout-ms, a signal that aborts when the deadline
 * passes, when the client goes away, or when the call ends — but built
 * lazily: the headers view, the AbortController and the deadline timer are
 * only made when the implementation touches them.
 */
import type http from "node:http";
import type http2 from "node:http2";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import { CALL_ENDED } from "./call-context.js";

export type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

/** A read-only Headers view over Node's request headers (no copy); pseudo-headers are left out, as connect-node does. */
class NodeHeaders {
  constructor(private readonly h: NodeJS.Dict<string | string[]>) {}
  get(name: string): string | null {
    const v = name.startsWith(":") ? undefined : this.h[name.toLowerCase()];
    if (v === undefined) return null;
    return typeof v === "string" ? v : v.join(", ");
  }
  has(name: string): boolean {
    return this.get(name) !== null;
  }
  getSetCookie(): string[] {
    const v = this.h["set-cookie"];
    return v === undefined ? [] : typeof v === "string" ? [v] : [...v];
  }
  *entries(): IterableIterator<[string, string]> {
    for (const key of Object.keys(this.h)
      .filter((k) => !k.startsWith(":"))
      .sort()) {
      const v = this.get(key);
      if (v !== null) yield [key, v];
    }
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  forEach(cb: (value: string, key: string, parent: Headers) => void): void {
    for (const [k, v] of this.entries()) cb(v, k, this as unknown as Headers);
  }
}

/** The error connect-node aborts a call's signal with when its HTTP/2 stream is reset by the client. */
function resetError(rstCode: number): ConnectError | undefined {
  const codes: Record<number, [string, Code]> = {
    0x1: ["PROTOCOL_ERROR", Code.Internal],
    0x2: ["INTERNAL_ERROR", Code.Internal],
    0x3: ["FLOW_CONTROL_ERROR", Code.Internal],
    0x4: ["SETTINGS_TIMEOUT", Code.Internal],
    0x6: ["FRAME_SIZE_ERROR", Code.Internal],
    0x7: ["REFUSED_STREAM", Code.Unavailable],
    0x8: ["CANCEL", Code.Canceled],
    0x9: ["COMPRESSION_ERROR", Code.Internal],
    0xa: ["CONNECT_ERROR", Code.Internal],
    0xb: ["ENHANCE_YOUR_CALM", Code.ResourceExhausted],
    0xc: ["INADEQUATE_SECURITY", Code.PermissionDenied],
    0xd: ["HTTP_1_1_REQUIRED", Code.PermissionDenied],
  };
  const c = codes[rstCode];
  return c && new ConnectError(`http/2 stream closed with error code ${c[0]} (0x${rstCode.toString(16)})`, c[1]);
}

export class ConnectUnaryContext implements HandlerContext {
  readonly protocolName = "connect";
  readonly requestMethod = "POST";
  private readonly deadline: number | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ended = false;
  private endReason: unknown;
  private headerView: Headers | undefined;
  private resHeader: Headers | undefined;
  private resTrailer: Headers | undefined;
  private ctxValues: ContextValues | undefined;

  constructor(
    private readonly req: NodeRequest,
    private readonly res: NodeResponse,
    readonly service: DescService,
    readonly method: DescMethod,
    timeoutMs: number | undefined,
    private readonly contentType: string,
  ) {
    this.deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  }

  get url(): string {
    const encrypted = "encrypted" in this.req.socket && this.req.socket.encrypted;
    const authority = "authority" in this.req ? this.req.authority : this.req.headers.host;
    return new URL(this.req.url ?? "", `${encrypted ? "https" : "http"}://${authority}`).toString();
  }

  timeoutMs(): number | undefined {
    return this.deadline === undefined ? undefined : this.deadline - Date.now();
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
    if (controller.signal.aborted) return controller;
    const req = this.req;
    if ("stream" in req) {
      const gone = () => controller.abort(resetError(req.stream.rstCode));
      if (req.stream.destroyed) gone();
      else req.once("close", gone);
    } else {
      const gone = () => controller.abort(CALL_ENDED);
      if (req.socket.destroyed) gone();
      else (this.res as http.ServerResponse).once("close", gone);
    }
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

  get requestHeader(): Headers {
    return (this.headerView ??= new NodeHeaders(this.req.headers) as unknown as Headers);
  }
  get responseHeader(): Headers {
    return (this.resHeader ??= new Headers({ "content-type": this.contentType }));
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
}
