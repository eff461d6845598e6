/**
 * Reads a request body from Node's request with listeners, never by
 * iterating it: leaving a `for await` over a Node stream early destroys the
 * stream, and a destroyed HTTP/2 stream (RST_STREAM) or HTTP/1 socket can no
 * longer carry the error response — an upload over the limit got no answer
 * at all. Here a body that breaks the limit stops being collected; the rest
 * flows on unread while the error response goes out (HTTP/1's request
 * timeout bounds a client that never stops).
 */
import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import type { NodeRequest } from "./connect-unary.js";

/**
 * Reads the whole request body as connect's readAllBytes does: a
 * Content-Length above the limit fails before reading, a body that breaks
 * the limit or its Content-Length fails with the same messages.
 */
export function readBody(req: NodeRequest, max: number, lengthHeader: string | undefined): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const hint = lengthHeader === undefined ? NaN : parseInt(lengthHeader, 10);
    const hinted = Number.isSafeInteger(hint) && hint >= 0;
    if (hinted && hint > max) {
      discardRest(req);
      reject(new ConnectError(`message size ${hint} is larger than configured readMaxBytes ${max}`, Code.ResourceExhausted));
      return;
    }
    const chunks: Buffer[] = [];
    let count = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    // Stop collecting; the rest of the body flows on unread, and the error response goes out.
    const fail = (e: unknown) => {
      cleanup();
      discardRest(req);
      reject(e);
    };
    const onData = (chunk: Buffer) => {
      count += chunk.byteLength;
      if (hinted && count > hint) fail(new ConnectError(`protocol error: promised ${hint} bytes, received ${count}`, Code.InvalidArgument));
      else if (!hinted && count > max) fail(new ConnectError(`message size is larger than configured readMaxBytes ${max}`, Code.ResourceExhausted));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (hinted && count < hint) reject(new ConnectError(`protocol error: promised ${hint} bytes, received ${count}`, Code.InvalidArgument));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, count));
    };
    const onError = (e: unknown) => {
      cleanup();
      reject(e);
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
  });
}

/**
 * The body is refused: what is left of it is read and dropped, so the
 * client's sending is never blocked by flow control before it reads the
 * answer. Clients stop sending once they have the answer; on HTTP/2 one that
 * does not is told to (RST_STREAM NO_ERROR, RFC 9113 §8.1) a while after
 * the answer went out — not at once: nghttp2 drops the stream's queued DATA
 * frames when the reset is submitted, and the answer would be lost.
 */
function discardRest(req: NodeRequest): void {
  req.resume();
  if (!("stream" in req)) return; // HTTP/1: Node drops the rest itself, within the request timeout
  const stream = req.stream;
  uploadsEnded.set(
    req,
    new Promise<void>((resolve) => {
      if (req.complete) return resolve();
      const t = setTimeout(resolve, DISCARD_GRACE_MS).unref();
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      req.once("end", done);
      req.once("aborted", done);
      stream.once("close", done);
    }),
  );
  stream.once("finish", () => {
    setTimeout(() => {
      if (!req.complete && !stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    }, DISCARD_GRACE_MS).unref();
  });
}

const uploadsEnded = new WeakMap<NodeRequest, Promise<void>>();

/**
 * For a refused HTTP/2 upload: settles once the client has sent the rest of
 * its body, or after a grace period — whichever comes first (at once for
 * anything else). An answer with HTTP status 200 (gRPC, gRPC-Web) does not
 * make a client stop sending, and curl up to 8.10 never finishes a transfer
 * whose response ended while it was still uploading (curl/curl#15316): it
 * hangs with the whole answer in hand. Answering once the upload is over —
 * or, for a client that goes on, after the grace and then with RST_STREAM
 * NO_ERROR as below — lets every client finish.
 */
export function refusedUploadSettled(req: NodeRequest): Promise<void> {
  return uploadsEnded.get(req) ?? Promise.resolve();
}

/** How long a refused HTTP/2 upload may go on after its answer was sent. */
const DISCARD_GRACE_MS = 1000;
