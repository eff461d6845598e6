/**
 * Products with their stock (InventoryService.ListProducts, public), and for
 * a customer the order form: a quantity per product and an optional address,
 * sent as one CreateOrder with a fresh request id.
 */
import type { Order } from "../../gen/orders/v1/order_service_pb.js";
import type { Product } from "../../gen/inventory/v1/inventory_service_pb.js";
import type { Api } from "./api.js";
import { busy, byId, fill, h } from "./dom.js";
import { money, shortId, statusName } from "./format.js";
import { clearNotices, say, sayInvalid, sayRefused } from "./notices.js";
import type { Session } from "./session.js";

export interface ProductsView {
  load(): Promise<void>;
}

export function createProductsView(api: Api, session: Session, onPlaced: (order: Order) => void): ProductsView {
  const body = byId("products-body");
  const form = byId("order-form", HTMLFormElement);
  const button = byId("place-order", HTMLButtonElement);
  let products: Product[] = [];

  /** Refreshes the catalog; quantities typed meanwhile survive (a refresh answering late must not undo them). */
  const load = async () => {
    try {
      products = (await api.inventory.listProducts({ pageSize: 100 })).products;
      const typed = new Map([...form.querySelectorAll<HTMLInputElement>("input[data-product]")].map((i) => [i.dataset.product!, i.value]));
      fill(body, ...products.map((p) => productRow(p, typed.get(p.id) ?? "0")));
    } catch (err) {
      sayRefused("List products", err);
    }
  };

  const place = async () => {
    const customerId = session.current.customerId;
    if (session.current.role !== "customer" || !customerId) return sayInvalid("Only a customer places orders here: pick one under Identity.");
    const items: { productId: string; quantity: number }[] = [];
    for (const input of form.querySelectorAll<HTMLInputElement>("input[data-product]")) {
      const quantity = Number(input.value || "0");
      if (!Number.isInteger(quantity) || quantity < 0) return sayInvalid(`${input.getAttribute("aria-label")}: a whole number, please.`);
      if (quantity > 0) items.push({ productId: input.dataset.product!, quantity });
    }
    if (items.length === 0) return sayInvalid("Choose a quantity for at least one product.");
    clearNotices();
    await busy(button, async () => {
      try {
        const { order } = await api.orders.createOrder({ customerId, requestId: newRequestId(), items, shippingAddress: addressOf(form) });
        if (!order) return;
        say(`Order ${shortId(order.id)} placed: ${statusName(order.status)}, total ${money(order.total)}.`);
        form.querySelectorAll<HTMLInputElement>("input[data-product]").forEach((i) => (i.value = "0"));
        onPlaced(order);
        await load();
      } catch (err) {
        sayRefused("Place order", err);
      }
    });
  };

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void place();
  });
  byId("products-refresh", HTMLButtonElement).addEventListener("click", () => void load());
  return { load };
}

function productRow(p: Product, quantity: string): HTMLTableRowElement {
  return h(
    "tr",
    {},
    h("th", { scope: "row" }, p.name, h("br"), h("small", { class: "hint" }, p.description)),
    h("td", {}, h("code", {}, p.sku)),
    h("td", { class: "num" }, money(p.unitPrice)),
    h("td", { class: "num" }, p.available.toString()),
    h(
      "td",
      { class: "num customer-only" },
      h("input", {
        type: "number",
        inputmode: "numeric",
        min: "0",
        max: p.available.toString(),
        step: "1",
        value: quantity,
        "data-product": p.id,
        "aria-label": `Quantity of ${p.name}`,
      }),
    ),
  );
}

/** The address fields, or undefined when all are empty (the address is optional); the recipient defaults to the customer's name. */
function addressOf(form: HTMLFormElement) {
  const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement;
  const value = (name: string) => field(name).value.trim();
  const a = { recipientName: value("recipientName"), line1: value("line1"), city: value("city"), countryCode: value("countryCode").toUpperCase() };
  if (Object.values(a).every((v) => v === "")) return undefined;
  return { ...a, recipientName: a.recipientName || field("recipientName").placeholder };
}

/** CreateOrder's idempotency key (crypto.randomUUID needs a secure context; this does not). */
function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `console-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
