/**
 * Serves wrapped service implementations over grpc-js, with protobuf-es
 * doing the (de)serialisation. Requests arrive as raw bytes and are decoded
 * inside the handler (request-decoding.ts), so a malformed message is
 * INVALID_ARGUMENT with an ErrorInfo rather than grpc-js's INTERNAL.
 * ConnectErrors (already mapped by wrapService) become gRPC statuses with the
 * same grpc-status-details-bin Connect would send.
 */
import { once } from "node:events";
import type { DescMethod } from "@bufbuild/protobuf";
import { ConnectError, type HandlerContext } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import * as grpc from "@grpc/grpc-js";
import { CALL_ENDED, CallHandlerContext, type CallOrigin } from "./call-handler-context.js";
import { createConnectionFront, type ConnectionFront, type ConnectionLimiter } from "./connection-front.js";
import { installGrpcStatusDetails } from "./grpc-status-details.js";
import { MetadataHeaders } from "./header-views.js";
import type { ServiceRegistration } from "./handlers.js";
import { createBinaryEncoder } from "./message-encoding.js";
import { decodeRequest } from "./request-decoding.js";

type Unary = (req: unknown, ctx: HandlerContext) => Promise<unknown>;
type Streaming = (req: unknown, ctx: HandlerContext) => AsyncIterable<unknown>;
type ServerSurfaceCall = Omit<grpc.ServerUnaryCall<unknown, unknown>, "request">;

const identity = (b: Buffer) => b;

/** What grpc-js tells of a call; its deadline and the client's cancel reach the context's signal. */
function grpcOrigin(call: ServerSurfaceCall, method: DescMethod): CallOrigin {
  return {
    protocolName: "grpc",
    requestMethod: "POST",
    url: () => `/${method.parent.typeName}/${method.name}`,
    headers: () => new MetadataHeaders(call.metadata) as unknown as Headers,
    onGone(gone) {
      if (call.cancelled) gone(CALL_ENDED);
      else call.once("cancelled", () => gone(CALL_ENDED));
    },
  };
}

function contextOf(call: ServerSurfaceCall, method: DescMethod): CallHandlerContext {
  const d = call.getDeadline();
  const at = d instanceof Date ? d.getTime() : d;
  const timeoutMs = Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
  return new CallHandlerContext(method, grpcOrigin(call, method), timeoutMs);
}

export function toGrpcStatus(err: unknown): Partial<grpc.StatusObject> {
  const ce = ConnectError.from(err);
  const trailer = new Headers();
  setTrailerStatus(trailer, ce);
  const metadata = new grpc.Metadata();
  const details = trailer.get("grpc-status-details-bin");
  if (details) metadata.set("grpc-status-details-bin", Buffer.from(details, "base64"));
  const pushback = ce.metadata.get("grpc-retry-pushback-ms");
  if (pushback !== null) metadata.set("grpc-retry-pushback-ms", pushback);
  return { code: ce.code as number as grpc.status, details: ce.rawMessage, metadata };
}

const decode = (method: DescMethod, bytes: Buffer): unknown => decodeRequest(method.input, bytes, true);

function unaryHandler(method: DescMethod, impl: Unary, encode: (m: unknown) => Buffer) {
  return (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    let req: unknown;
    try {
      req = decode(method, call.request);
    } catch (err) {
      callback(toGrpcStatus(err));
      return;
    }
    const ctx = contextOf(call, method);
    impl(req, ctx).then(
      (res) => {
        ctx.end();
        callback(null, encode(res));
      },
      (err) => {
        ctx.end(err);
        callback(toGrpcStatus(err));
      },
    );
  };
}

function serverStreamingHandler(method: DescMethod, impl: Streaming, encode: (m: unknown) => Buffer) {
  return (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    const ctx = contextOf(call, method);
    const run = async () => {
      const req = decode(method, call.request);
      for await (const msg of impl(req, ctx)) {
        if (call.cancelled) return;
        if (!call.write(encode(msg))) await once(call, "drain");
      }
      call.end();
    };
    run().then(
      () => ctx.end(),
      (err) => {
        ctx.end(err);
        if (!call.cancelled) call.emit("error", toGrpcStatus(err));
      },
    );
  };
}

function definitionAndHandlers(reg: ServiceRegistration) {
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  const impls = reg.impl as Record<string, unknown>;
  for (const method of reg.service.methods) {
    if (method.methodKind !== "unary" && method.methodKind !== "server_streaming") {
      throw new Error(`${method.name}: only unary and server-streaming methods are served`);
    }
    const encode = createBinaryEncoder(method.output);
    const streaming = method.methodKind === "server_streaming";
    definition[method.name] = {
      path: `/${reg.service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: streaming,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    };
    const impl = impls[method.localName];
    handlers[method.name] = streaming
      ? serverStreamingHandler(method, impl as Streaming, encode)
      : unaryHandler(method, impl as Unary, encode);
  }
  return { definition, handlers };
}

export interface GrpcServerOptions {
  readonly maxReceiveMessageBytes: number;
  /** Largest request metadata (headers) accepted; larger is refused by grpc-js. */
  readonly maxHeaderBytes?: number;
  /**
   * A connection with no call for this long is closed (GOAWAY); a connection
   * silent this long while a call is open is pinged and closed when the ping
   * goes unanswered. Default 60000.
   */
  readonly idleTimeoutMs?: number;
  /** Calls one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). Default 100. */
  readonly maxConcurrentStreams?: number;
}

export function createGrpcServer(regs: readonly ServiceRegistration[], opts: GrpcServerOptions): grpc.Server {
  installGrpcStatusDetails();
  const server = new grpc.Server({
    "grpc.max_receive_message_length": opts.maxReceiveMessageBytes,
    "grpc.max_metadata_size": opts.maxHeaderBytes ?? 16 * 1024,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.max_connection_idle_ms": opts.idleTimeoutMs ?? 60_000,
    "grpc.keepalive_time_ms": opts.idleTimeoutMs ?? 60_000,
    "grpc.max_concurrent_streams": opts.maxConcurrentStreams ?? 100,
    // No channelz service is served, so its per-call bookkeeping is pure cost (measured +2–6% on a no-op).
    "grpc.enable_channelz": 0,
  });
  for (const reg of regs) {
    const { definition, handlers } = definitionAndHandlers(reg);
    server.addService(definition, handlers);
  }
  return server;
}

/**
 * The gRPC port as a front of ours (connection-front.ts) feeding grpc-js's
 * connection injector: the process's connection cap applies, and shutdown
 * stops accepting before grpc-js drains its sessions.
 */
export function createGrpcFront(server: grpc.Server, limiter: ConnectionLimiter): ConnectionFront {
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return createConnectionFront(limiter, (socket) => injector.injectConnection(socket));
}

/** Binds grpc-js's own listener (no connection cap): for benches and tests that need only the server. */
export function listenGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
}
