/**
 * Response encoding shared by the servers. A frozen message (see
 * `freezeMessage`) cannot change, so its encoding is computed once and kept
 * for as long as the message lives: a read cache that hands out the same
 * frozen message for repeated hits pays for its encoding once per format.
 * Messages that are not frozen are encoded on every call, as before.
 */
import { create, isMessage, toBinary, toJsonString, type DescMessage, type JsonWriteOptions } from "@bufbuild/protobuf";

/**
 * Deep-freezes a message (bytes fields excepted: typed arrays cannot be
 * frozen) so that the servers may reuse its encoding. Mutating it afterwards
 * throws in strict mode instead of silently serving stale bytes.
 */
export function freezeMessage<T extends object>(msg: T): T {
  deepFreeze(msg);
  return msg;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value) || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

/** A response message as the implementation returned it: a message of `schema` or its init shape. */
export function toMessage(schema: DescMessage, msg: unknown) {
  return isMessage(msg, schema) ? msg : create(schema, msg as never);
}

function memoized<T>(encode: (msg: object) => T): (msg: object) => T {
  const known = new WeakMap<object, T>();
  return (msg) => {
    if (!Object.isFrozen(msg)) return encode(msg);
    let bytes = known.get(msg);
    if (bytes === undefined) {
      bytes = encode(msg);
      known.set(msg, bytes);
    }
    return bytes;
  };
}

/** Binary encoder of `schema` messages (returned bytes must not be modified). */
export function createBinaryEncoder(schema: DescMessage): (msg: unknown) => Buffer {
  const encode = memoized((m) => {
    const bytes = toBinary(schema, m as never);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  });
  return (msg) => encode(toMessage(schema, msg));
}

/** JSON encoder of `schema` messages, as UTF-8 bytes (returned bytes must not be modified). */
export function createJsonEncoder(schema: DescMessage, options?: Partial<JsonWriteOptions>): (msg: unknown) => Buffer {
  const encode = memoized((m) => Buffer.from(toJsonString(schema, m as never, options), "utf8"));
  return (msg) => encode(toMessage(schema, msg));
}
