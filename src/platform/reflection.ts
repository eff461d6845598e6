/**
 * gRPC server reflection (v1 and v1alpha, via @grpc/reflection) fed with the
 * file descriptors protoc-gen-es embedded in gen/, so grpcurl-style tools
 * (`npx buf curl`, ghz) work with no .proto files at hand.
 */
import { toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ReflectionService } from "@grpc/reflection";
import type { Server } from "@grpc/grpc-js";

function collectFiles(services: readonly DescService[]): DescFile[] {
  const seen = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (seen.has(file.name)) return;
    seen.set(file.name, file);
    file.dependencies.forEach(visit);
  };
  services.forEach((s) => visit(s.file));
  return [...seen.values()];
}

/** Adds reflection for `services` (and everything their files depend on). */
export function addReflection(server: Server, services: readonly DescService[]): void {
  const fileDescriptorProtos = collectFiles(services).map((f) =>
    Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)),
  );
  // @grpc/reflection reads only `fileDescriptorProtos` of each entry of a
  // proto-loader PackageDefinition; one entry carrying every file suffices.
  const packageDefinition = { descriptors: { format: "", fileDescriptorProtos } };
  new ReflectionService(packageDefinition as never, {
    services: services.map((s) => s.typeName),
  }).addToServer(server);
}
