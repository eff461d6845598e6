/**
 * The orders list (OrderService.ListOrders, newest first, paged): a
 * customer's own ("My orders", which the service scopes to them whatever is
 * asked) with Watch and Cancel, or everyone's for staff with Manage and
 * Watch. Rows are updated in place from any answer or watch message.
 */
import type { Order } from "../../gen/orders/v1/order_service_pb.js";
import type { Api } from "./api.js";
import { busy, byId, fill, h } from "./dom.js";
import { money, paymentStatusName, shortId, statusName, time } from "./format.js";
import { clearNotices, say, sayRefused } from "./notices.js";
import type { Session } from "./session.js";

export interface OrderActions {
  watch(orderId: string): void;
  manage(order: Order): void;
}

export interface OrdersView {
  load(): Promise<void>;
  /** Shows this version of an order (added on top when new). */
  upsert(order: Order): void;
  clear(): void;
}

const PAGE_SIZE = 20;

export function createOrdersView(api: Api, session: Session, actions: OrderActions): OrdersView {
  const body = byId("orders-body");
  const empty = byId("orders-empty");
  const more = byId("orders-more", HTMLButtonElement);
  const rows = new Map<string, HTMLTableRowElement>();
  let nextPageToken = "";

  const staff = () => session.current.role !== "customer";

  const row = (o: Order) =>
    h(
      "tr",
      { "data-order": o.id },
      h("th", { scope: "row" }, h("code", { title: o.id }, o.number ? `#${o.number}` : shortId(o.id))),
      h("td", { class: "staff-only" }, h("code", { title: o.customerId }, shortId(o.customerId))),
      h("td", { class: "nowrap" }, time(o.createTime)),
      h("td", {}, h("span", { class: `status status-${statusName(o.status).toLowerCase()}` }, statusName(o.status))),
      h("td", {}, o.payment ? paymentStatusName(o.payment.status) : "—"),
      h("td", { class: "num" }, money(o.total)),
      h(
        "td",
        { class: "actions" },
        staff() && h("button", { type: "button", "aria-label": `Manage order ${shortId(o.id)}`, onclick: () => actions.manage(o) }, "Manage"),
        h("button", { type: "button", "aria-label": `Watch order ${shortId(o.id)}`, onclick: () => actions.watch(o.id) }, "Watch"),
        !staff() && h("button", { type: "button", "aria-label": `Cancel order ${shortId(o.id)}`, onclick: (ev) => void cancel(o, ev) }, "Cancel"),
      ),
    );

  const cancel = async (o: Order, ev: Event) => {
    clearNotices();
    await busy(ev.currentTarget as HTMLButtonElement, async () => {
      try {
        const { order } = await api.orders.cancelOrder({ orderId: o.id, reason: "cancelled in the browser console" });
        if (order) view.upsert(order);
        say(`Order ${shortId(o.id)} cancelled.`);
      } catch (err) {
        sayRefused(`Cancel order ${shortId(o.id)}`, err);
      }
    });
  };

  const show = (orders: Order[], append: boolean) => {
    if (!append) view.clear();
    for (const o of orders) {
      const tr = row(o);
      rows.set(o.id, tr);
      body.append(tr);
    }
    empty.hidden = rows.size > 0;
  };

  const page = async (append: boolean) => {
    const asked = session.current;
    try {
      const res = await api.orders.listOrders({ pageSize: PAGE_SIZE, pageToken: append ? nextPageToken : "" });
      if (session.current !== asked) return; // the identity changed meanwhile: these are someone else's
      show(res.orders, append);
      nextPageToken = res.nextPageToken;
      more.hidden = nextPageToken === "";
    } catch (err) {
      if (session.current === asked) sayRefused("List orders", err);
    }
  };

  const view: OrdersView = {
    load: () => page(false),
    upsert(order) {
      const tr = row(order);
      const old = rows.get(order.id);
      if (old) {
        // Keyboard users keep their place: the same button of the new row takes the focus.
        const focused = old.contains(document.activeElement) ? document.activeElement?.getAttribute("aria-label") : undefined;
        old.replaceWith(tr);
        if (focused) tr.querySelector<HTMLElement>(`[aria-label="${CSS.escape(focused)}"]`)?.focus();
      } else body.prepend(tr);
      rows.set(order.id, tr);
      empty.hidden = true;
    },
    clear() {
      rows.clear();
      fill(body);
      nextPageToken = "";
      more.hidden = true;
    },
  };
  more.addEventListener("click", () => void page(true));
  byId("orders-refresh", HTMLButtonElement).addEventListener("click", () => void view.load());
  return view;
}
