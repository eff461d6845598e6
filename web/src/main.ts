/**
 * The browser console (README "Use it from a browser"): pick an identity,
 * browse products with their stock, place an order, see your orders and
 * watch one live; as staff, move orders along. Every action is an RPC of the
 * real service, and every refusal shows the service's reason and details.
 */
import { CustomerTier } from "../../gen/customers/v1/customer_service_pb.js";
import { createApi } from "./api.js";
import { byId, fill, h } from "./dom.js";
import { createManagePanel } from "./manage.js";
import { clearNotices, sayInvalid, sayRefused } from "./notices.js";
import { createOrdersView } from "./orders.js";
import { createProductsView } from "./products.js";
import { ANONYMOUS, createSession, fetchDemoIdentities, identityFromToken, type DemoIdentities, type Identity } from "./session.js";
import { createWatchPanel } from "./watch.js";

const session = createSession();
const api = createApi(session);
const watch = createWatchPanel(api, (order) => orders.upsert(order));
const manage = createManagePanel(api, (order) => orders.upsert(order));
const orders = createOrdersView(api, session, { watch: (id) => watch.watch(id), manage: (order) => manage.show(order) });
const products = createProductsView(api, session, (order) => {
  orders.upsert(order);
  watch.watch(order.id);
});

const select = byId("identity", HTMLSelectElement);
const whoami = byId("whoami");
const known = new Map<string, Identity>([["anonymous", ANONYMOUS]]);

session.onChange((identity) => {
  document.body.dataset.role = identity.role === "customer" || identity.role === "anonymous" ? identity.role : "staff";
  clearNotices();
  watch.stop();
  manage.hide();
  orders.clear();
  fill(whoami, "Acting as: ", describe(identity));
  byId("orders").hidden = identity.role === "anonymous";
  fill(byId("orders-heading"), identity.role === "customer" ? "My orders" : "All orders");
  void products.load();
  if (identity.role === "anonymous") return;
  void orders.load();
  if (identity.role === "customer" && identity.customerId) void showCustomer(identity, identity.customerId);
});

/** A customer's name and tier, from their own record (GetCustomer). */
async function showCustomer(identity: Identity, customerId: string) {
  try {
    const { customer } = await api.customers.getCustomer({ customerId });
    if (!customer || session.current !== identity) return;
    const tier = CustomerTier[customer.tier] ?? "";
    fill(whoami, "Acting as: ", describe({ ...identity, label: customer.displayName, description: `${tier} customer` }));
    const recipient = byId("order-form", HTMLFormElement).elements.namedItem("recipientName") as HTMLInputElement;
    recipient.placeholder = customer.displayName;
  } catch (err) {
    sayRefused("Read my customer record", err);
  }
}

function describe(i: Identity): HTMLElement {
  if (i.role === "anonymous") return h("strong", {}, "anonymous (no token): only the public catalog answers");
  const who = i.role === "customer" ? `customer ${i.customerId ?? "?"}` : `${i.role} ${i.subject ?? "?"}`;
  return h(
    "span",
    {},
    h("strong", { class: "who" }, i.label),
    i.description ? ` — ${i.description}` : "",
    " (",
    h("code", {}, who),
    ")",
    i.expiresAt ? `; token valid until ${i.expiresAt.toLocaleTimeString()}` : "",
  );
}

function offer(key: string, identity: Identity) {
  known.set(key, identity);
  select.append(h("option", { value: key }, `${identity.label} — ${identity.description ?? identity.role}`));
}

function showSource(demo: DemoIdentities) {
  const source = byId("identity-source");
  if (demo.offered) {
    for (const identity of demo.identities) offer(identity.demoKey!, identity);
    fill(source, "Demo identities are tokens this local zero-setup server signs with its development key; it hands them only to this machine.");
  } else {
    fill(source, `No demo identities here (${demo.message}). Paste a token: npm start prints some, npm run token mints more.`);
    byId("paste", HTMLDetailsElement).open = true;
  }
}

select.addEventListener("change", () => {
  const identity = known.get(select.value);
  if (identity) session.use(identity);
});

byId("paste-form", HTMLFormElement).addEventListener("submit", (ev) => {
  ev.preventDefault();
  const field = byId("paste-token", HTMLTextAreaElement);
  let identity: Identity;
  try {
    identity = identityFromToken(field.value);
  } catch (err) {
    return sayInvalid(`That token cannot be used: ${(err as Error).message}.`);
  }
  const key = `pasted-${known.size}`;
  offer(key, identity);
  select.value = key;
  field.value = "";
  session.use(known.get(key)!);
});

const demo = await fetchDemoIdentities().catch((err: Error): DemoIdentities => ({ offered: false, message: err.message }));
showSource(demo);
session.use(ANONYMOUS);
