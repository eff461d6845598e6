/**
 * Every `reason` this service puts in a google.rpc.ErrorInfo, with its
 * Connect code and which operations can answer it. The reasons themselves are
 * raised all over src/ (src/kernel/errors.ts's factories, src/*\/domain/*errors.ts,
 * the platform's protocol and auth layers); this table is their one
 * description for the API document. test/unit/platform/openapi-document.test.ts
 * fails when src/ raises a reason missing here, or when a method's proto
 * comment names a reason its operation does not list.
 */

/** Connect's error codes (https://connectrpc.com/docs/protocol#error-codes), with the HTTP status of a unary answer. */
export const CONNECT_CODES = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
} as const;

export type ConnectCode = keyof typeof CONNECT_CODES;

/**
 * Which operations can answer a reason:
 * - `any`: every operation (protocol, credentials, deadlines, shutdown);
 * - `stored`: every method of our own services — they are rate limited,
 *   admitted and read the database (health is none of these);
 * - `authenticated`: methods that need credentials (not public);
 * - `no-rule`: methods without an access rule (refused);
 * - `field-grants`: methods with fields only some roles may set;
 * - `service-callers`: methods a service may call (it may send x-actor);
 * - `paged`: requests with a `page_token`;
 * - `etag`: requests with an `etag`;
 * - a list of methods, as "Service.Method";
 * - `none`: no operation answers it (the caller is gone, or called none:
 *   a verb the path does not take).
 */
export type ReasonScope =
  | "any"
  | "stored"
  | "authenticated"
  | "no-rule"
  | "field-grants"
  | "service-callers"
  | "paged"
  | "etag"
  | "none"
  | readonly string[];

export interface ReasonDoc {
  readonly code: ConnectCode;
  /** The HTTP status, when it is not the code's: the Connect port's refusals of what is no call (src/platform/rpc/protocol-errors.ts). */
  readonly status?: number;
  readonly scope: ReasonScope;
  /** When it is answered; markdown. */
  readonly summary: string;
}

const orders = (...methods: string[]) => methods.map((m) => `OrderService.${m}`);
const inventory = (...methods: string[]) => methods.map((m) => `InventoryService.${m}`);
const customers = (...methods: string[]) => methods.map((m) => `CustomerService.${m}`);

export const ERROR_REASONS: Readonly<Record<string, ReasonDoc>> = {
  // The request itself (request-decoding.ts, handlers.ts).
  MALFORMED_REQUEST: { code: "invalid_argument", scope: "any", summary: "the body is not a message at all: not JSON (or proto), invalid UTF-8, broken framing or compression, a bad `connect-timeout-ms`, bad base64 in a GET" },
  INVALID_REQUEST: { code: "invalid_argument", scope: "any", summary: "a field breaks a rule of the contract, or does not decode (an unknown field or enum name, a wrong type); a `google.rpc.BadRequest` names every bad field" },
  MESSAGE_TOO_LARGE: { code: "resource_exhausted", scope: "any", summary: "the message is larger than `MAX_RECEIVE_MESSAGE_BYTES`" },
  UNSUPPORTED: { code: "unimplemented", scope: "any", summary: "an unknown compression" },
  METHOD_NOT_FOUND: { code: "unimplemented", status: 404, scope: "any", summary: "no such method here: a wrong path, or its service runs elsewhere (`SERVICES`)" },
  UNSUPPORTED_MEDIA_TYPE: { code: "unimplemented", status: 415, scope: "any", summary: "a `content-type` no protocol here speaks (the answer's `accept-post` lists them)" },
  HTTP_METHOD_NOT_ALLOWED: { code: "unimplemented", status: 405, scope: "none", summary: "a verb the path does not take: GET on a method with side effects, or anything but POST and GET" },
  HTTP2_REQUIRED: { code: "unimplemented", status: 505, scope: ["ServerReflection.ServerReflectionInfo"], summary: "a bidirectional stream over HTTP/1.1: call it over HTTP/2" },
  DEADLINE_EXCEEDED: { code: "deadline_exceeded", scope: "any", summary: "the call's deadline (`connect-timeout-ms`, else `DEFAULT_DEADLINE_MS`) passed; nothing of it commits afterwards" },
  SHUTTING_DOWN: { code: "unavailable", scope: "any", summary: "the instance is shutting down; retry (on another instance) after the `RetryInfo`" },
  INTERNAL: { code: "internal", scope: "any", summary: "a bug of ours: the message is just \"internal error\", the cause is in the log" },
  CANCELLED: { code: "canceled", scope: "none", summary: "the caller went away" },
  CALL_CANCELLED: { code: "canceled", scope: "none", summary: "the caller went away while the call waited for a slot" },

  // Who calls (auth/, access.ts): a presented token must verify, even on public methods.
  TOKEN_INVALID: { code: "unauthenticated", scope: "any", summary: "the bearer token does not verify (malformed, bad signature, wrong algorithm)" },
  TOKEN_EXPIRED: { code: "unauthenticated", scope: "any", summary: "the bearer token's `exp` has passed" },
  TOKEN_NOT_YET_VALID: { code: "unauthenticated", scope: "any", summary: "the bearer token's `nbf` is in the future" },
  TOKEN_CLAIMS_INVALID: { code: "unauthenticated", scope: "any", summary: "the token's `iss`, `aud`, `role`, `customer_id` or `sub` is wrong or missing" },
  TOKEN_KEY_UNKNOWN: { code: "unauthenticated", scope: "any", summary: "no trusted key has the token's `kid`" },
  AUTH_KEYS_UNAVAILABLE: { code: "unavailable", scope: "any", summary: "the identity provider's JWKS cannot be fetched" },
  CREDENTIALS_REQUIRED: { code: "unauthenticated", scope: "authenticated", summary: "no `authorization: Bearer <token>` on a method that needs one" },
  ROLE_NOT_PERMITTED: { code: "permission_denied", scope: "authenticated", summary: "the caller's role may not call this method" },
  NO_ACCESS_RULE: { code: "permission_denied", scope: "no-rule", summary: "the method has no access rule, so nobody may call it" },
  FIELD_NOT_PERMITTED: { code: "permission_denied", scope: "field-grants", summary: "the request sets a field only other roles may set (metadata `field`)" },
  INVALID_ACTOR: { code: "invalid_argument", scope: "service-callers", summary: "a service sent an `x-actor` that is not 1 to 256 visible ASCII characters" },

  // Load and the database (rate-limit.ts, admission/, pg-errors.ts, pool-gate.ts, bounded.ts).
  RATE_LIMITED: { code: "resource_exhausted", scope: "stored", summary: "the caller spent its rate limit for this method class; retry after the `RetryInfo` / `retry-after`" },
  OVERLOADED: { code: "unavailable", scope: "stored", summary: "priority admission shed the call (it could not be served before its deadline, or the queue was full); retry after the `RetryInfo`" },
  DATABASE_UNAVAILABLE: { code: "unavailable", scope: "stored", summary: "the database is unreachable" },
  DATABASE_TIMEOUT: { code: "deadline_exceeded", scope: "stored", summary: "the database cancelled a statement that would outlive the call's deadline" },
  DATABASE_CONFLICT: { code: "aborted", scope: "stored", summary: "the change lost a serialisation conflict or deadlock: retry it" },
  LOCK_TIMEOUT: { code: "deadline_exceeded", scope: "stored", summary: "a row stayed locked past the call's deadline" },
  DB_POOL_EXHAUSTED: { code: "unavailable", scope: "stored", summary: "no database connection became free within `DB_POOL_WAIT_MS`; retry after the `RetryInfo`" },
  INVALID_PAGE_TOKEN: { code: "invalid_argument", scope: "paged", summary: "a forged or foreign page token, or one from a request with other filters" },
  ETAG_MISMATCH: { code: "aborted", scope: "etag", summary: "the `etag` is stale: the resource changed since it was read" },

  // grpc.health.v1.
  SERVICE_UNKNOWN: { code: "not_found", scope: ["Health.Check"], summary: "no such service is hosted here" },

  // Orders (src/orders/domain/order-errors.ts, money.ts, app/hold-stock.ts; platform/rpc/remote.ts for dependencies).
  ORDER_NOT_FOUND: { code: "not_found", scope: orders("CreateOrder", "GetOrder", "ListOrderTimeline", "UpdateShippingInfo", "UpdateOrderStatus", "CancelOrder", "CancelUnshipped", "DeleteOrder", "ReportPayment", "CreateShipment", "UpdateShipmentStatus", "RequestReturn", "UpdateReturnStatus", "AddOrderNote", "UpdateOrderTags", "UpdateOrderMetadata", "WatchOrder"), summary: "no such order — or it was deleted, or it is another customer's" },
  ILLEGAL_TRANSITION: { code: "failed_precondition", scope: orders("UpdateOrderStatus", "CancelOrder", "CreateShipment"), summary: "the transition table does not allow it from the current status (metadata `currentStatus`)" },
  SHIPPING_INFO_REQUIRED: { code: "failed_precondition", scope: orders("UpdateOrderStatus", "UpdateShipmentStatus"), summary: "SHIPPED needs a carrier and tracking number first" },
  PAYMENT_NOT_CAPTURED: { code: "failed_precondition", scope: orders("UpdateOrderStatus", "CreateShipment"), summary: "`REQUIRE_CAPTURE_BEFORE_FULFILMENT` is on and the order's whole total is not captured yet (metadata `paymentStatus`)" },
  SHIPMENT_NOT_FOUND: { code: "not_found", scope: orders("UpdateShipmentStatus"), summary: "the order has no such shipment" },
  ILLEGAL_SHIPMENT_TRANSITION: { code: "failed_precondition", scope: orders("UpdateShipmentStatus"), summary: "the shipment table does not allow it from the shipment's status (metadata `currentStatus`)" },
  SHIPMENT_EXCEEDS_ORDERED: { code: "failed_precondition", scope: orders("CreateShipment"), summary: "more units of a line would be in shipments than were ordered: one violation per line, saying how many are left" },
  LINE_NOT_FOUND: { code: "invalid_argument", scope: orders("CreateShipment", "RequestReturn"), summary: "a `lineNumber` the order does not have" },
  ORDER_PARTIALLY_SHIPPED: { code: "failed_precondition", scope: orders("CancelOrder", "UpdateOrderStatus", "DeleteOrder"), summary: "units of the order are shipped: it can no longer be cancelled as a whole" },
  RETURN_NOT_FOUND: { code: "not_found", scope: orders("UpdateReturnStatus"), summary: "the order has no such return" },
  ILLEGAL_RETURN_TRANSITION: { code: "failed_precondition", scope: orders("UpdateReturnStatus"), summary: "the return table does not allow it from the return's status (metadata `currentStatus`)" },
  RETURN_EXCEEDS_DELIVERED: { code: "failed_precondition", scope: orders("RequestReturn"), summary: "more units of a line would be in returns than were delivered: one violation per line, saying how many can be returned" },
  RETURN_WINDOW_CLOSED: { code: "failed_precondition", scope: orders("RequestReturn"), summary: "a customer's return more than `RETURN_WINDOW_DAYS` after the order's last delivery (or before any): staff can still open it" },
  ILLEGAL_PAYMENT_TRANSITION: { code: "failed_precondition", scope: orders("ReportPayment"), summary: "the payment table does not take this kind of report in the payment's current status (metadata `paymentStatus`)" },
  PAYMENT_EXCEEDS_TOTAL: { code: "failed_precondition", scope: orders("ReportPayment"), summary: "more would be authorised than the order's total (metadata `limitMinor`: what more can be)" },
  CAPTURE_EXCEEDS_AUTHORIZED: { code: "failed_precondition", scope: orders("ReportPayment"), summary: "more would be captured than is authorised (metadata `limitMinor`)" },
  REFUND_EXCEEDS_CAPTURED: { code: "failed_precondition", scope: orders("ReportPayment"), summary: "more would be refunded than was captured (metadata `limitMinor`)" },
  CURRENCY_MISMATCH: { code: "invalid_argument", scope: orders("ReportPayment"), summary: "the amount is not in the order's currency" },
  STOCK_NOT_SOLD: { code: "failed_precondition", scope: orders("UpdateOrderStatus"), summary: "CONFIRMED before the order's stock is sold" },
  ORDER_FINALIZED: { code: "failed_precondition", scope: orders("UpdateShippingInfo"), summary: "the order is DELIVERED or CANCELLED" },
  IDEMPOTENCY_KEY_REUSED: { code: "invalid_argument", scope: [...orders("CreateOrder", "ReportPayment", "CreateShipment", "RequestReturn", "AddOrderNote"), ...inventory("ReserveStock", "ReturnStock")], summary: "the idempotency key (`requestId`, `reservationId`, `providerEventId`, `returnId`) was used before with another payload" },
  ORDER_DELETED: { code: "already_exists", scope: orders("CreateOrder"), summary: "the `requestId` made an order that was since deleted" },
  NOT_OWN_CUSTOMER: { code: "permission_denied", scope: orders("CreateOrder"), summary: "a customer ordering for another customer" },
  CUSTOMER_INACTIVE: { code: "failed_precondition", scope: orders("CreateOrder"), summary: "the customer is SUSPENDED" },
  ORDER_CANCELLED: { code: "failed_precondition", scope: orders("CreateOrder"), summary: "a repeat of a request whose order was cancelled before it was confirmed" },
  ORDER_NOT_CONFIRMED: { code: "unavailable", scope: orders("CreateOrder"), summary: "the order is stored but inventory did not confirm the sale in time: retry with the same `requestId`" },
  MIXED_CURRENCIES: { code: "failed_precondition", scope: orders("CreateOrder"), summary: "the products are priced in more than one currency" },
  AMOUNT_OUT_OF_RANGE: { code: "failed_precondition", scope: orders("CreateOrder"), summary: "a line total or the order total does not fit an int64" },
  RESERVATION_RETRIES_EXHAUSTED: { code: "aborted", scope: orders("CreateOrder", "UpdateOrderStatus"), summary: "the order's stock could not be held under any of its reservation ids; retry later" },
  INVENTORY_UNAVAILABLE: { code: "unavailable", scope: orders("CreateOrder", "UpdateOrderStatus"), summary: "inventory is down or its connection broke" },
  INVENTORY_DEADLINE_EXCEEDED: { code: "deadline_exceeded", scope: orders("CreateOrder", "UpdateOrderStatus"), summary: "inventory did not answer in time" },
  CUSTOMERS_UNAVAILABLE: { code: "unavailable", scope: orders("CreateOrder", "SearchOrders"), summary: "the customer service is down or its connection broke" },
  CUSTOMERS_DEADLINE_EXCEEDED: { code: "deadline_exceeded", scope: orders("CreateOrder", "SearchOrders"), summary: "the customer service did not answer in time" },
  NOTE_LIMIT_REACHED: { code: "failed_precondition", scope: orders("AddOrderNote"), summary: "the order has 100 notes, the most it keeps (metadata `limit`)" },
  TAG_LIMIT_REACHED: { code: "failed_precondition", scope: orders("UpdateOrderTags"), summary: "the order would have more than 20 tags (metadata `limit`)" },
  TAG_ADDED_AND_REMOVED: { code: "invalid_argument", scope: orders("UpdateOrderTags"), summary: "a tag is in both `addTags` and `removeTags`" },
  METADATA_LIMIT_REACHED: { code: "failed_precondition", scope: orders("UpdateOrderMetadata"), summary: "the order would have more than 20 metadata entries (metadata `limit`)" },
  METADATA_KEY_SET_AND_REMOVED: { code: "invalid_argument", scope: orders("UpdateOrderMetadata"), summary: "a key is in both `set` and `removeKeys`" },
  RESUME_POINT_EXPIRED: { code: "failed_precondition", scope: orders("WatchOrder"), summary: "the changes after `afterVersion` are no longer kept: watch again without it" },
  RESUME_POINT_AHEAD: { code: "invalid_argument", scope: orders("WatchOrder"), summary: "`afterVersion` is past the order's version" },
  WATCH_LIMIT_REACHED: { code: "resource_exhausted", scope: orders("WatchOrder"), summary: "too many open watches, per caller or in the process (metadata `limit`)" },
  WATCH_LIFETIME_REACHED: { code: "unavailable", scope: orders("WatchOrder"), summary: "the stream lived `WATCH_MAX_LIFETIME_MS`: watch again (with `afterVersion`)" },

  // Inventory (src/inventory/domain/errors.ts).
  PRODUCT_NOT_FOUND: { code: "not_found", scope: [...inventory("GetProduct", "UpdateProduct", "SetStock", "AdjustStock", "ReserveStock"), ...orders("CreateOrder")], summary: "no such product (metadata `productId`)" },
  SKU_TAKEN: { code: "already_exists", scope: inventory("CreateProduct", "UpdateProduct"), summary: "another product has this SKU" },
  STOCK_BELOW_RESERVED: { code: "failed_precondition", scope: inventory("SetStock", "AdjustStock"), summary: "stock on hand would fall below what is reserved" },
  STOCK_OUT_OF_RANGE: { code: "failed_precondition", scope: inventory("SetStock", "AdjustStock", "ReturnStock"), summary: "stock on hand would pass 2^63 - 1" },
  INSUFFICIENT_STOCK: { code: "failed_precondition", scope: [...inventory("ReserveStock"), ...orders("CreateOrder")], summary: "a product is short: one `PreconditionFailure` violation per short product, nothing held" },
  RESERVATION_NOT_FOUND: { code: "not_found", scope: inventory("CommitReservation", "ReturnStock", "ReleaseReservation", "GetReservation"), summary: "no such reservation of the caller's" },
  RESERVATION_RELEASED: { code: "failed_precondition", scope: inventory("CommitReservation", "ReturnStock"), summary: "the reservation was released" },
  RESERVATION_EXPIRED: { code: "failed_precondition", scope: inventory("CommitReservation", "ReturnStock"), summary: "the reservation expired before it was committed" },
  RESERVATION_NOT_COMMITTED: { code: "failed_precondition", scope: inventory("ReturnStock"), summary: "the reservation is still pending: only a committed (sold) one takes returns" },
  RETURN_EXCEEDS_SOLD: { code: "failed_precondition", scope: inventory("ReturnStock"), summary: "a product the reservation did not sell, or more than it sold minus what was returned: one `PreconditionFailure` violation per such product, nothing returned" },

  // Customers (src/customers/domain/errors.ts).
  CUSTOMER_NOT_FOUND: { code: "not_found", scope: [...customers("GetCustomer", "UpdateCustomer"), ...orders("CreateOrder")], summary: "no such customer — or another customer's record" },
  EMAIL_TAKEN: { code: "already_exists", scope: customers("CreateCustomer", "UpdateCustomer"), summary: "another customer has this email (compared case-insensitively)" },
};
