/**
 * A HandlerContext for calls arriving through grpc-js, built lazily: the
 * headers view, the abort signal and the context values are only made when an
 * implementation touches them, so a call that needs none pays for none.
 */
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { createContextValues, type ContextValues, type HandlerContext } from "@connectrpc/connect";
import type { Metadata, ServerUnaryCall } from "@grpc/grpc-js";
import { CALL_ENDED } from "./call-context.js";

type ServerSurfaceCall = Omit<ServerUnaryCall<unknown, unknown>, "request">;

/** A read-only Headers view over grpc-js Metadata (no copy). */
class MetadataHeaders {
  constructor(private readonly md: Metadata) {}
  get(name: string): string | null {
    const values = this.md.get(name.toLowerCase());
    if (values.length === 0) return null;
    return values.map((v) => (typeof v === "string" ? v : v.toString("base64"))).join(", ");
  }
  has(name: string): boolean {
    return this.md.get(name.toLowerCase()).length > 0;
  }
  forEach(cb: (value: string, key: string) => void): void {
    for (const key of Object.keys(this.md.getMap())) {
      const v = this.get(key);
      if (v !== null) cb(v, key);
    }
  }
}

export class GrpcHandlerContext implements HandlerContext {
  readonly protocolName = "grpc";
  readonly requestMethod = "POST";
  private controller: AbortController | undefined;
  private headerView: Headers | undefined;
  private resHeader: Headers | undefined;
  private resTrailer: Headers | undefined;
  private ctxValues: ContextValues | undefined;

  constructor(
    private readonly call: ServerSurfaceCall,
    readonly service: DescService,
    readonly method: DescMethod,
  ) {}

  get url(): string {
    return `/${this.service.typeName}/${this.method.name}`;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.call.cancelled) controller.abort(CALL_ENDED);
      else this.call.once("cancelled", () => controller.abort(CALL_ENDED));
    }
    return this.controller.signal;
  }

  timeoutMs(): number | undefined {
    const d = this.call.getDeadline();
    const at = d instanceof Date ? d.getTime() : d;
    return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
  }

  get requestHeader(): Headers {
    return (this.headerView ??= new MetadataHeaders(this.call.metadata) as unknown as Headers);
  }
  get responseHeader(): Headers {
    return (this.resHeader ??= new Headers());
  }
  get responseTrailer(): Headers {
    return (this.resTrailer ??= new Headers());
  }
  get values(): ContextValues {
    return (this.ctxValues ??= createContextValues());
  }
}
