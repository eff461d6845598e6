/**
 * Serves wrapped service implementations over grpc-js, with protobuf-es
 * doing the (de)serialisation. Requests arrive as raw bytes and are decoded
 * inside the handler, so a malformed message is INVALID_ARGUMENT rather than
 * grpc-js's INTERNAL. ConnectErrors (already mapped by wrapService) become
 * gRPC statuses with the same grpc-status-details-bin Connect would send.
 */
import { once } from "node:events";
import { fromBinary, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import * as grpc from "@grpc/grpc-js";
import { GrpcHandlerContext } from "./grpc-context.js";
import type { ServiceRegistration } from "./handlers.js";
import { createBinaryEncoder } from "./message-encoding.js";

type Unary = (req: unknown, ctx: HandlerContext) => Promise<unknown>;
type Streaming = (req: unknown, ctx: HandlerContext) => AsyncIterable<unknown>;

const identity = (b: Buffer) => b;

export function toGrpcStatus(err: unknown): Partial<grpc.StatusObject> {
  const ce = ConnectError.from(err);
  const trailer = new Headers();
  setTrailerStatus(trailer, ce);
  const metadata = new grpc.Metadata();
  const details = trailer.get("grpc-status-details-bin");
  if (details) metadata.set("grpc-status-details-bin", Buffer.from(details, "base64"));
  return { code: ce.code as number as grpc.status, details: ce.rawMessage, metadata };
}

function decode(method: DescMethod, bytes: Buffer): unknown {
  try {
    return fromBinary(method.input, bytes);
  } catch {
    throw new ConnectError("request message could not be decoded", Code.InvalidArgument);
  }
}

function unaryHandler(service: DescService, method: DescMethod, impl: Unary, encode: (m: unknown) => Buffer) {
  return (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
    let req: unknown;
    try {
      req = decode(method, call.request);
    } catch (err) {
      callback(toGrpcStatus(err));
      return;
    }
    impl(req, new GrpcHandlerContext(call, service, method)).then(
      (res) => callback(null, encode(res)),
      (err) => callback(toGrpcStatus(err)),
    );
  };
}

function serverStreamingHandler(service: DescService, method: DescMethod, impl: Streaming, encode: (m: unknown) => Buffer) {
  return (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
    const run = async () => {
      const req = decode(method, call.request);
      for await (const msg of impl(req, new GrpcHandlerContext(call, service, method))) {
        if (call.cancelled) return;
        if (!call.write(encode(msg))) await once(call, "drain");
      }
      call.end();
    };
    run().catch((err) => {
      if (!call.cancelled) call.emit("error", toGrpcStatus(err));
    });
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
      ? serverStreamingHandler(reg.service, method, impl as Streaming, encode)
      : unaryHandler(reg.service, method, impl as Unary, encode);
  }
  return { definition, handlers };
}

export interface GrpcServerOptions {
  readonly maxReceiveMessageBytes: number;
}

export function createGrpcServer(regs: readonly ServiceRegistration[], opts: GrpcServerOptions): grpc.Server {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": opts.maxReceiveMessageBytes,
    "grpc.keepalive_permit_without_calls": 1,
    // No channelz service is served, so its per-call bookkeeping is pure cost (measured +2–6% on a no-op).
    "grpc.enable_channelz": 0,
  });
  for (const reg of regs) {
    const { definition, handlers } = definitionAndHandlers(reg);
    server.addService(definition, handlers);
  }
  return server;
}

export function listenGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    );
  });
}
