/**
 * Staff move an order along (README "Orders": CONFIRMED → PROCESSING →
 * SHIPPED → DELIVERED, or CANCELLED while it is still in the warehouse):
 * UpdateOrderStatus, UpdateShippingInfo and CancelOrder. Every button is
 * always there: the service, not the page, decides what the order's status
 * allows, and a refusal shows its reason (ILLEGAL_TRANSITION, …).
 */
import { OrderStatus, type Order } from "../../gen/orders/v1/order_service_pb.js";
import type { Api } from "./api.js";
import { busy, byId, fill } from "./dom.js";
import { shortId, statusName } from "./format.js";
import { clearNotices, say, sayRefused } from "./notices.js";

export interface ManagePanel {
  show(order: Order): void;
  hide(): void;
}

export function createManagePanel(api: Api, onChanged: (order: Order) => void): ManagePanel {
  const section = byId("manage");
  const heading = byId("manage-heading");
  const status = byId("manage-status");
  const shipping = byId("manage-shipping");
  const reason = byId("manage-reason", HTMLInputElement);
  const shippingForm = byId("shipping-form", HTMLFormElement);
  let current: Order | undefined;

  const render = (o: Order) => {
    current = o;
    fill(heading, `Manage order ${shortId(o.id)}`);
    heading.title = o.id;
    fill(status, statusName(o.status));
    status.className = `status status-${statusName(o.status).toLowerCase()}`;
    fill(shipping, o.shippingInfo ? `${o.shippingInfo.carrier} ${o.shippingInfo.trackingNumber}` : "no shipping info yet");
  };

  /** Runs the action of `button` on the current order; its answer is the order as it is now. */
  const change = async (button: HTMLButtonElement, call: (orderId: string) => Promise<{ order?: Order }>) => {
    if (!current) return;
    const action = `${button.textContent} (order ${shortId(current.id)})`;
    const orderId = current.id;
    clearNotices();
    await busy(button, async () => {
      try {
        const { order } = await call(orderId);
        if (!order) return;
        render(order);
        onChanged(order);
        say(`${action}: done, now ${statusName(order.status)}.`);
      } catch (err) {
        sayRefused(action, err);
      }
    });
  };

  for (const button of section.querySelectorAll<HTMLButtonElement>("button[data-status]")) {
    const status = OrderStatus[button.dataset.status as keyof typeof OrderStatus];
    button.addEventListener("click", () => change(button, (orderId) => api.orders.updateOrderStatus({ orderId, status, reason: reason.value.trim() })));
  }
  const cancel = section.querySelector<HTMLButtonElement>("button[data-action=cancel]")!;
  cancel.addEventListener("click", () => change(cancel, (orderId) => api.orders.cancelOrder({ orderId, reason: reason.value.trim() })));
  shippingForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const field = (name: string) => (shippingForm.elements.namedItem(name) as HTMLInputElement).value.trim();
    const shippingInfo = { carrier: field("carrier"), trackingNumber: field("trackingNumber") };
    void change(shippingForm.querySelector("button")!, (orderId) => api.orders.updateShippingInfo({ orderId, shippingInfo }));
  });

  return {
    show(order) {
      render(order);
      section.hidden = false;
      heading.tabIndex = -1;
      heading.focus();
    },
    hide() {
      current = undefined;
      section.hidden = true;
    },
  };
}
