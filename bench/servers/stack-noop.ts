/**
 * Our transport stack's ceiling: grpc.health.v1.Health/Check — a map lookup —
 * served exactly as the service serves its RPCs: wrapService (protovalidate +
 * error mapping) on createGrpcServer (protobuf-es decode/encode, handler
 * context) and on the Connect port (createHttpHandler/createHttpServer). No
 * database. Prints {"grpcPort":N,"httpPort":M} when bound.
 */
import { createValidator } from "@bufbuild/protovalidate";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { createAuthenticator } from "../../src/platform/auth/authenticator.js";
import { createGrpcServer, listenGrpc } from "../../src/platform/rpc/grpc-server.js";
import { createHealthRegistry, ServingStatus } from "../../src/platform/health.js";
import { createHttpHandler, createHttpServer } from "../../src/platform/rpc/http-server.js";
import { createLogger } from "../../src/platform/logger.js";
import { createServiceRegistry } from "../../src/platform/rpc/service-registry.js";

const maxReceiveMessageBytes = 1024 * 1024;
const health = createHealthRegistry([]);
health.setAll(ServingStatus.SERVING);
// Health is public: calls come without a token, so the authenticator only looks for one (as the service does).
const noKeys = { verify: () => Promise.reject(new Error("no keys in the no-op stack")), verifyCached: () => undefined };
const registry = createServiceRegistry({
  validator: createValidator(),
  logger: createLogger("warn"),
  defaultDeadlineMs: 5000,
  authenticator: createAuthenticator(noKeys),
});
registry.register(Health, health.impl);
registry.seal();
const regs = registry.registrations();
const grpcServer = createGrpcServer(regs, { maxReceiveMessageBytes });
const httpServer = createHttpServer(createHttpHandler(regs, { maxReceiveMessageBytes, ready: () => true }));
const grpcPort = await listenGrpc(grpcServer, "127.0.0.1", 0);
const httpPort = await httpServer.listen("127.0.0.1", 0);
process.stdout.write(JSON.stringify({ grpcPort, httpPort }) + "\n");

const stop = () => {
  health.close();
  grpcServer.forceShutdown();
  void httpServer.close().finally(() => process.exit(0));
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
