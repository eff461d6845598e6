/**
 * Read-only `Headers` views over what the transports already hold, so a call
 * that reads a header or two copies nothing: grpc-js Metadata and Node's
 * request headers. Only the methods handlers and connect use are provided.
 */

/** A Headers view over grpc-js Metadata: binary (-bin) values read as base64, as connect does. */
export class MetadataHeaders {
  constructor(private readonly md: { get(key: string): (string | Buffer)[]; getMap(): Record<string, unknown> }) {}
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

/** A Headers view over Node's request headers; pseudo-headers are left out, as connect-node does. */
export class NodeHeaders {
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
