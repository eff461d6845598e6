/**
 * Staff-only response fields ((access.v1.staff_only) in proto/access/v1/access.proto):
 * what an answer to a customer (or an anonymous caller) never holds, on any
 * transport, in unary answers and stream messages alike. wrapService
 * (handlers.ts) runs every such answer through the redactor of the method's
 * output type; the rule lives on the field, next to the contract, so a new
 * RPC that returns an Order is covered without a line of code.
 *
 * A redactor is planned once per message type: which fields to clear and
 * which message fields lead to more. A type with no staff-only field below it
 * has no redactor (the call pays nothing). Answers are copied, never changed
 * in place: implementations hand out cached, frozen messages (GetOrder's read
 * cache), and a staff caller must still see them whole. A message with
 * nothing to clear is returned as it is; the copy made of a frozen message is
 * kept (and frozen) for as long as that message lives, so a customer's cached
 * read is encoded once too (message-encoding.ts).
 */
import { getOption, hasOption, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { scalarZeroValue } from "@bufbuild/protobuf/reflect";
import { staff_only } from "../../../gen/access/v1/access_pb.js";
import type { Principal } from "../../kernel/principal.js";
import { freezeMessage } from "./message-encoding.js";

type Msg = Record<string, unknown>;

interface Plan {
  /** Staff-only fields of this type. */
  readonly clear: readonly DescField[];
  /** Fields whose messages have staff-only fields below them. */
  readonly nested: readonly { readonly field: DescField; readonly plan: Plan }[];
}

/** Whether `principal` may see staff-only fields: staff, admins and services. */
export function seesStaffOnly(principal: Principal): boolean {
  return principal.role === "staff" || principal.role === "admin" || principal.role === "service";
}

const isStaffOnly = (f: DescField) => hasOption(f, staff_only) && getOption(f, staff_only);

const plans = new Map<string, Plan | undefined>();

/**
 * The plan of `desc`, or undefined when no staff-only field is reachable.
 * Oneof members are not walked: a staff-only field in or below one is
 * refused here (at start-up, when the services are wrapped) rather than
 * leaked. A recursive type's back edge is not followed (none of ours is).
 */
function planOf(desc: DescMessage, visiting = new Set<string>()): Plan | undefined {
  if (plans.has(desc.typeName)) return plans.get(desc.typeName);
  if (visiting.has(desc.typeName)) return undefined;
  visiting.add(desc.typeName);
  const clear: DescField[] = [];
  const nested: { field: DescField; plan: Plan }[] = [];
  for (const field of desc.fields) {
    const below = field.message ? planOf(field.message, visiting) : undefined;
    if (field.oneof && (isStaffOnly(field) || below)) {
      throw new Error(`${field.toString()}: staff-only fields in a oneof are not supported`);
    }
    if (isStaffOnly(field)) clear.push(field);
    else if (below) nested.push({ field, plan: below });
  }
  visiting.delete(desc.typeName);
  const plan = clear.length > 0 || nested.length > 0 ? { clear, nested } : undefined;
  plans.set(desc.typeName, plan);
  return plan;
}

function isEmpty(field: DescField, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  switch (field.fieldKind) {
    case "list":
      return (value as unknown[]).length === 0;
    case "map":
      for (const _ in value as object) return false;
      return true;
    case "message":
      return false;
    case "enum":
      return value === 0;
    case "scalar":
      return value === scalarZeroValue(field.scalar, field.longAsString);
  }
}

function emptyOf(field: DescField): unknown {
  switch (field.fieldKind) {
    case "list":
      return [];
    case "map":
      return {};
    case "message":
      return undefined;
    case "enum":
      return 0;
    case "scalar":
      return scalarZeroValue(field.scalar, field.longAsString);
  }
}

/** `msg` without its staff-only fields: `msg` itself when it has none set. */
function apply(plan: Plan, msg: Msg): Msg {
  let out: Msg | undefined;
  const set = (name: string, value: unknown) => {
    out ??= { ...msg };
    out[name] = value;
  };
  for (const field of plan.clear) {
    if (!isEmpty(field, msg[field.localName])) set(field.localName, emptyOf(field));
  }
  for (const { field, plan: inner } of plan.nested) {
    const value = msg[field.localName];
    if (value === undefined || value === null) continue;
    if (field.fieldKind === "list") {
      // Allocates only once an element changes: most orders have nothing to clear.
      const list = value as Msg[];
      let redacted: Msg[] | undefined;
      for (let i = 0; i < list.length; i++) {
        const m = apply(inner, list[i]!);
        if (m !== list[i]) (redacted ??= list.slice())[i] = m;
      }
      if (redacted) set(field.localName, redacted);
    } else if (field.fieldKind === "map") {
      const map = value as Record<string, Msg>;
      let redacted: Record<string, Msg> | undefined;
      for (const k in map) {
        const m = apply(inner, map[k]!);
        if (m !== map[k]) (redacted ??= { ...map })[k] = m;
      }
      if (redacted) set(field.localName, redacted);
    } else {
      const redacted = apply(inner, value as Msg);
      if (redacted !== value) set(field.localName, redacted);
    }
  }
  return out ?? msg;
}

export type Redactor = <T>(answer: T) => T;

/**
 * The redactor of answers of type `desc` for callers that may not see
 * staff-only fields; undefined when the type has none. Throws when a
 * staff-only field sits where it cannot be cleared (a oneof).
 */
export function staffOnlyRedactor(desc: DescMessage): Redactor | undefined {
  const plan = planOf(desc);
  if (!plan) return undefined;
  const copies = new WeakMap<object, Msg>();
  return <T>(answer: T): T => {
    if (typeof answer !== "object" || answer === null) return answer;
    const msg = answer as Msg;
    if (!Object.isFrozen(msg)) return apply(plan, msg) as T;
    let copy = copies.get(msg);
    if (!copy) {
      const redacted = apply(plan, msg);
      copy = redacted === msg ? msg : freezeMessage(redacted);
      copies.set(msg, copy);
    }
    return copy as T;
  };
}
