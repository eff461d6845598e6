/**
 * The outbox over HTTP, for operators and `npm run events` (README
 * "Events"), on the HTTP port beside /metrics and with the same access (an
 * admin or service token): the one way to see events when no broker is
 * configured, and to handle dead letters whatever the database (the
 * embedded one cannot be opened by a second process).
 *
 *   GET  /events?stream=orders&after=<position>&limit=<n>   rows after a position, published or not
 *   GET  /events/dead-letters?stream=orders                  the dead letters
 *   POST /events/dead-letters/replay?stream=orders&id=<event id>   back in the queue
 */
import type http from "node:http";
import type http2 from "node:http2";
import type { OutboxStore } from "./outbox-store.js";

type NodeRequest = http.IncomingMessage | http2.Http2ServerRequest;
type NodeResponse = http.ServerResponse | http2.Http2ServerResponse;

export interface EventsEndpoint {
  /** Answers when the request is for /events…; false otherwise. */
  handle(req: NodeRequest, res: NodeResponse): boolean;
}

export function createEventsEndpoint(
  stores: Readonly<Record<string, OutboxStore>>,
  allowed: (authorization: string | null) => boolean | Promise<boolean>,
): EventsEndpoint {
  const answer = (res: NodeResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const serve = async (url: URL, method: string, res: NodeResponse) => {
    const stream = url.searchParams.get("stream") ?? "orders";
    const store = stores[stream];
    if (!store) return answer(res, 404, { error: `no outbox for stream "${stream}" here; streams: ${Object.keys(stores).join(", ") || "none"}` });
    const int = (name: string, def: number, max: number) => {
      const v = Number(url.searchParams.get(name) ?? def);
      return Number.isSafeInteger(v) && v >= 0 ? Math.min(v, max) : undefined;
    };
    if (url.pathname === "/events" && method === "GET") {
      const after = int("after", 0, Number.MAX_SAFE_INTEGER);
      const limit = int("limit", 100, 1000);
      if (after === undefined || limit === undefined) return answer(res, 400, { error: "after and limit must be non-negative integers" });
      const events = await store.after(after, limit);
      return answer(res, 200, { events, next: events.at(-1)?.position ?? after });
    }
    if (url.pathname === "/events/dead-letters" && method === "GET") return answer(res, 200, { deadLetters: await store.deadLetters(1000) });
    if (url.pathname === "/events/dead-letters/replay" && method === "POST") {
      const id = url.searchParams.get("id") ?? "";
      if (!/^[0-9a-f-]{36}$/i.test(id)) return answer(res, 400, { error: "id must be an event id (a UUID)" });
      return (await store.replay(id)) ? answer(res, 200, { replayed: id }) : answer(res, 404, { error: `no dead letter ${id} (or one written before the events contract)` });
    }
    return answer(res, 404, { error: "GET /events, GET /events/dead-letters or POST /events/dead-letters/replay" });
  };
  return {
    handle(req, res) {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (url.pathname !== "/events" && !url.pathname.startsWith("/events/")) return false;
      void (async () => {
        try {
          if (!(await allowed(req.headers.authorization ?? null))) return answer(res, 401, { error: "an admin or service bearer token is needed" });
          await serve(url, req.method ?? "GET", res);
        } catch {
          answer(res, 503, { error: "the outbox could not be read; try again" });
        }
      })();
      return true;
    },
  };
}
