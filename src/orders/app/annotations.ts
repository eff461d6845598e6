/**
 * AddOrderNote, UpdateOrderTags and UpdateOrderMetadata: each one locked
 * transaction on the order (repository.update), so concurrent notes all land
 * (each its own version) and concurrent tag or metadata changes apply one
 * after the other, none lost. A repeated AddOrderNote (same request id, same
 * text) finds its note and changes nothing, whatever etag it carries. A
 * request that contradicts itself fails before the order is read.
 */
import type { CallContext } from "../../kernel/call-context.js";
import { isRepeatedNote, metadataRequestConflict, noteIdFor, tagRequestConflict, type StaffNote } from "../domain/annotations.js";
import type { Order } from "../domain/order.js";
import { decide, type OrderCommand } from "../domain/transition.js";
import { changeMeta } from "./change-meta.js";
import type { OrderAppPorts } from "./ports.js";

export interface AddOrderNoteInput {
  readonly orderId: string;
  readonly requestId: string;
  readonly text: string;
  readonly etag: string | undefined;
}

export interface UpdateOrderTagsInput {
  readonly orderId: string;
  readonly add: readonly string[];
  readonly remove: readonly string[];
  readonly etag: string | undefined;
}

export interface UpdateOrderMetadataInput {
  readonly orderId: string;
  readonly set: Readonly<Record<string, string>>;
  readonly remove: readonly string[];
  readonly etag: string | undefined;
}

export interface NoteResult {
  readonly order: Order;
  readonly note: StaffNote;
}

export function createAnnotationUseCases(deps: Pick<OrderAppPorts, "repo">) {
  async function addOrderNote(cx: CallContext, input: AddOrderNoteInput): Promise<NoteResult> {
    const meta = changeMeta(cx);
    const guard = { etag: input.etag, alreadyApplied: (o: Order) => isRepeatedNote(o, input.requestId, input.text) };
    const { order } = await deps.repo.update(input.orderId, guard, (o) => decide(o, { kind: "ADD_NOTE", requestId: input.requestId, text: input.text }, meta), cx);
    const id = noteIdFor(order.id, input.requestId);
    const note = order.staffNotes.find((n) => n.id === id);
    if (!note) throw new Error(`order ${order.id} lacks note ${id} after its change`);
    return { order, note };
  }

  /** A tags or metadata change: refused before the order is read when the request contradicts itself. */
  async function annotate(cx: CallContext, orderId: string, etag: string | undefined, conflict: Error | undefined, cmd: OrderCommand): Promise<Order> {
    if (conflict) throw conflict;
    const meta = changeMeta(cx);
    const { order } = await deps.repo.update(orderId, { etag }, (o) => decide(o, cmd, meta), cx);
    return order;
  }

  const updateOrderTags = (cx: CallContext, input: UpdateOrderTagsInput): Promise<Order> =>
    annotate(cx, input.orderId, input.etag, tagRequestConflict(input.add, input.remove), { kind: "UPDATE_TAGS", add: input.add, remove: input.remove });

  const updateOrderMetadata = (cx: CallContext, input: UpdateOrderMetadataInput): Promise<Order> =>
    annotate(cx, input.orderId, input.etag, metadataRequestConflict(input.set, input.remove), { kind: "UPDATE_METADATA", set: input.set, remove: input.remove });

  return { addOrderNote, updateOrderTags, updateOrderMetadata };
}
