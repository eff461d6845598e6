/**
 * Watch one order live over OrderService.WatchOrder, a server stream read
 * with fetch (connect-web): the order as it is, then after every change,
 * until it is final (README "Watching an order"). A stream that ends with a
 * retry hint (UNAVAILABLE: lifetime, shutdown; RESOURCE_EXHAUSTED) or a
 * broken connection is resumed after the hint with `afterVersion`, so no
 * change is missed; anything else stops and says why.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { Order } from "../../gen/orders/v1/order_service_pb.js";
import type { Api } from "./api.js";
import { byId, fill, h } from "./dom.js";
import { describeError } from "./errors.js";
import { paymentSummary, shortActor, shortId, statusName, time } from "./format.js";
import { sayRefused } from "./notices.js";

export interface WatchPanel {
  watch(orderId: string): void;
  stop(): void;
}

/** Codes after which watching again can succeed: the service's retry hints, and the ways a broken connection surfaces. */
const RESUMABLE = new Set([Code.Unavailable, Code.ResourceExhausted, Code.Unknown, Code.Internal, Code.Aborted]);
const MAX_BACKOFF_MS = 30_000;

export function createWatchPanel(api: Api, onOrder: (order: Order) => void): WatchPanel {
  const section = byId("watch");
  const heading = byId("watch-heading");
  const status = byId("watch-status");
  const version = byId("watch-version");
  const live = byId("watch-live");
  const stream = byId("watch-stream");
  const shipping = byId("watch-shipping");
  const payment = byId("watch-payment");
  const history = byId("watch-history");
  let running: AbortController | undefined;

  const render = (o: Order, v: number) => {
    const name = statusName(o.status);
    if (status.textContent !== name) fill(live, `Order ${shortId(o.id)} is ${name}.`);
    fill(status, name);
    status.className = `status status-${name.toLowerCase()}`;
    fill(version, `version ${v}`);
    fill(payment, `Payment: ${paymentSummary(o.payment)}`);
    fill(shipping, o.shippingInfo ? `Shipping: ${o.shippingInfo.carrier}, tracking ${o.shippingInfo.trackingNumber}` : "No shipping info yet.");
    fill(
      history,
      ...o.history.map((c) =>
        h(
          "tr",
          {},
          h("td", { class: "nowrap" }, time(c.changeTime, "time")),
          h("td", {}, c.fromStatus ? statusName(c.fromStatus) : "—"),
          h("td", {}, statusName(c.toStatus)),
          h("td", {}, h("code", { title: c.actor }, shortActor(c.actor))),
          h("td", {}, c.reason),
        ),
      ),
    );
    onOrder(o);
  };

  const run = async (orderId: string, signal: AbortSignal) => {
    let after: number | undefined;
    let backoffMs = 1000;
    while (!signal.aborted) {
      try {
        fill(stream, after === undefined ? "connecting…" : `resuming after version ${after}…`);
        for await (const msg of api.orders.watchOrder({ orderId, afterVersion: after }, { signal })) {
          fill(stream, "live");
          backoffMs = 1000;
          after = msg.version;
          if (msg.order) render(msg.order, msg.version);
        }
        fill(stream, "ended: the order is final (or was deleted), so nothing more will change");
        return;
      } catch (err) {
        if (signal.aborted) return;
        const e = ConnectError.from(err);
        const d = describeError(e);
        if (d.reason === "RESUME_POINT_EXPIRED") {
          after = undefined; // the changes since are gone: watch the order as it is now
          continue;
        }
        if (!RESUMABLE.has(e.code)) {
          fill(stream, `stopped: ${d.code}${d.reason ? ` ${d.reason}` : ""}`);
          sayRefused(`Watch order ${shortId(orderId)}`, e);
          return;
        }
        const wait = d.retryAfterMs ?? backoffMs;
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        fill(stream, `interrupted (${d.code}${d.reason ? ` ${d.reason}` : ""}); watching again in ${Math.ceil(wait / 1000)} s`);
        await sleep(wait, signal);
      }
    }
  };

  const panel: WatchPanel = {
    watch(orderId) {
      panel.stop();
      const controller = (running = new AbortController());
      fill(heading, `Watching order ${shortId(orderId)}`);
      heading.title = orderId;
      fill(status);
      fill(version);
      fill(shipping);
      fill(history);
      section.hidden = false;
      heading.tabIndex = -1;
      heading.focus(); // keyboard and screen-reader users land on what they asked for
      void run(orderId, controller.signal);
    },
    stop() {
      running?.abort();
      running = undefined;
      section.hidden = true;
    },
  };
  byId("watch-stop", HTMLButtonElement).addEventListener("click", () => panel.stop());
  return panel;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}
