/**
 * gRPC server reflection (grpc.reflection.v1 and v1alpha) on both ports, so
 * `buf curl`, grpcurl and ghz work with no .proto files at hand, whichever
 * port and protocol they use.
 *
 * One library answers both: @grpc/reflection (grpc-node's, maintained with
 * grpc-js). On the gRPC port its ReflectionService registers itself; on the
 * Connect port the same library's per-request index
 * (ReflectionV1Implementation.handleServerReflectionRequest) answers each
 * message of a connect-node bidi stream — only the message shapes are mapped
 * (proto-loader objects ↔ protobuf-es), no reflection logic is ours. No
 * reflection package exists for connect-es (connectrpc/connect-es#507). That
 * class is the package's, not its exported API (like grpc-status-details.ts's
 * grpc-js internals): if a release moves it, start-up fails on the import,
 * and test/e2e/reflection.test.ts runs buf curl and a reflection client
 * against both ports.
 *
 * The index holds the file descriptors protoc-gen-es embedded in gen/: the
 * served services' files and everything they import, plus google/rpc's error
 * details and status, which no service file imports but every error carries
 * (ErrorInfo, BadRequest, PreconditionFailure, RetryInfo): with them a
 * reflecting client prints a refused call's details as JSON, not base64.
 *
 * buf curl speaks reflection over HTTP/2 only (a bidi stream); over HTTP/1.1
 * connect-node answers 505 (see protocol-errors.ts).
 */
import { toBinary, type DescFile, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import type { Server } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { ReflectionV1Implementation } from "@grpc/reflection/build/src/implementations/reflection-v1.js";
import type { ServerReflectionResponse as LoaderResponse } from "@grpc/reflection/build/src/generated/grpc/reflection/v1/ServerReflectionResponse.js";
import { file_google_rpc_error_details } from "../../../gen/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "../../../gen/google/rpc/status_pb.js";
import * as v1 from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import * as v1alpha from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** Files every reflection answer can reach besides the services' own: the error details the services send. */
const DETAIL_FILES: readonly DescFile[] = [file_google_rpc_error_details, file_google_rpc_status];

function collectFiles(roots: readonly DescFile[]): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  roots.forEach(visit);
  return [...seen.values()];
}

/**
 * The proto-loader PackageDefinition @grpc/reflection indexes: it reads only
 * `fileDescriptorProtos` of each entry, so one entry carrying every file suffices.
 */
function packageDefinition(services: readonly DescService[]) {
  const files = collectFiles([...services.map((s) => s.file), ...DETAIL_FILES]);
  const fileDescriptorProtos = files.map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  return { descriptors: { format: "", fileDescriptorProtos } } as never;
}

const options = (services: readonly DescService[]) => ({ services: services.map((s) => s.typeName) });

/** Adds reflection for `services` to the gRPC port. */
export function addReflection(server: Server, services: readonly DescService[]): void {
  new ReflectionService(packageDefinition(services), options(services)).addToServer(server);
}

/** A service implementation for connect-node's router. */
export interface ConnectService {
  readonly service: DescService;
  readonly impl: object;
}

type ResponseInit = MessageInitShape<typeof v1.ServerReflectionResponseSchema>;

/**
 * Reflection for `services` as connect-node services (v1 and v1alpha, whose
 * messages are the same), for the Connect port's router.
 */
export function reflectionServices(services: readonly DescService[]): ConnectService[] {
  const index = new ReflectionV1Implementation(packageDefinition(services), options(services));
  const answer = (req: v1.ServerReflectionRequest): ResponseInit => {
    const r = req.messageRequest;
    const out = index.handleServerReflectionRequest({ host: req.host, messageRequest: r.case, [r.case ?? "none"]: r.value } as never);
    return { validHost: req.host, originalRequest: req, messageResponse: responseOf(out) };
  };
  const impl = {
    async *serverReflectionInfo(requests: AsyncIterable<v1.ServerReflectionRequest>) {
      for await (const req of requests) yield answer(req);
    },
  };
  return [
    { service: v1.ServerReflection, impl },
    { service: v1alpha.ServerReflection, impl },
  ];
}

/** The answer's oneof, from @grpc/reflection's proto-loader object (bytes are Uint8Arrays there). */
function responseOf(out: LoaderResponse): ResponseInit["messageResponse"] {
  if (out.fileDescriptorResponse) {
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: (out.fileDescriptorResponse.fileDescriptorProto ?? []) as Uint8Array[] } };
  }
  if (out.listServicesResponse) return { case: "listServicesResponse", value: { service: (out.listServicesResponse.service ?? []).map((s) => ({ name: s.name })) } };
  if (out.allExtensionNumbersResponse) {
    const a = out.allExtensionNumbersResponse;
    return { case: "allExtensionNumbersResponse", value: { baseTypeName: a.baseTypeName, extensionNumber: a.extensionNumber } };
  }
  const e = out.errorResponse;
  return { case: "errorResponse", value: { errorCode: e?.errorCode ?? Code.Unknown, errorMessage: e?.errorMessage ?? "reflection failed" } };
}
