/**
 * Every status the gRPC port sends carries a google.rpc.ErrorInfo, including
 * the ones grpc-js makes itself before our handlers run: a message over
 * MAX_RECEIVE_MESSAGE_BYTES (RESOURCE_EXHAUSTED), a message that does not
 * decompress, a bad grpc-timeout, an unknown method (UNIMPLEMENTED). grpc-js
 * writes those through two places that its server interceptors do not see —
 * BaseServerInterceptingCall.sendStatus and Server#_respondWithError — so
 * those two are wrapped, once per process, to add the details when a status
 * has none (statuses our handlers send already do, and pass unchanged), and
 * to answer INVALID_ARGUMENT, not INTERNAL, where grpc-js blames itself for
 * a malformed request (a bad grpc-timeout, a message that does not decompress).
 *
 * The wrapping depends on grpc-js internals (1.10+); `installGrpcStatusDetails`
 * throws at start-up if they are gone, and test/integration/platform/
 * grpc-status-details.test.ts checks each case over the wire.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import * as grpc from "@grpc/grpc-js";
import { BaseServerInterceptingCall } from "@grpc/grpc-js/build/src/server-interceptors.js";
import { ErrorInfoSchema } from "../../../gen/google/rpc/error_details_pb.js";
import { protocolReason } from "./request-decoding.js";
import { ERROR_DOMAIN } from "./rpc-errors.js";

const DETAILS = "grpc-status-details-bin";

/**
 * grpc-js answers INTERNAL for these, though the request is at fault: a
 * malformed grpc-timeout header, a message that does not decompress.
 */
const CALLERS_FAULT = /^(Invalid grpc-timeout value|Failed to decompress message)/;

/** `status` with an ErrorInfo (reason by code) when it is an error without details. */
export function withStatusDetails(status: Partial<grpc.StatusObject>): Partial<grpc.StatusObject> {
  if (status.code === grpc.status.OK || (status.metadata?.get(DETAILS).length ?? 0) > 0) return status;
  const code =
    status.code === grpc.status.INTERNAL && CALLERS_FAULT.test(status.details ?? "") ? grpc.status.INVALID_ARGUMENT : (status.code ?? grpc.status.UNKNOWN);
  const reason = code === grpc.status.UNIMPLEMENTED ? "METHOD_NOT_FOUND" : protocolReason(code as number as Code);
  const err = new ConnectError(status.details ?? "", code as number as Code, undefined, [
    { desc: ErrorInfoSchema, value: { reason, domain: ERROR_DOMAIN } },
  ]);
  const trailer = new Headers();
  setTrailerStatus(trailer, err);
  const metadata = status.metadata?.clone() ?? new grpc.Metadata();
  metadata.set(DETAILS, Buffer.from(trailer.get(DETAILS)!, "base64"));
  return { ...status, code, metadata };
}

let installed = false;

export function installGrpcStatusDetails(): void {
  if (installed) return;
  const call = BaseServerInterceptingCall.prototype as unknown as { sendStatus?: (s: grpc.StatusObject) => void };
  const server = grpc.Server.prototype as unknown as { _respondWithError?: (err: Partial<grpc.StatusObject>, ...rest: unknown[]) => void };
  const sendStatus = call.sendStatus;
  const respondWithError = server._respondWithError;
  if (typeof sendStatus !== "function" || typeof respondWithError !== "function") {
    throw new Error("@grpc/grpc-js changed: grpc-status-details.ts cannot add error details to its statuses");
  }
  call.sendStatus = function (this: unknown, status: grpc.StatusObject) {
    return sendStatus.call(this, withStatusDetails(status) as grpc.StatusObject);
  };
  server._respondWithError = function (this: unknown, err: Partial<grpc.StatusObject>, ...rest: unknown[]) {
    return respondWithError.call(this, withStatusDetails(err), ...rest);
  };
  installed = true;
}
