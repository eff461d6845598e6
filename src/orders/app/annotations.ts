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
import type { OrderRepository } from "../domain/ports.js";
import { decide } from "../domain/transition.js";
import { changeMeta } from "./change-meta.js";

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

export function createAnnotationUseCases(deps: { repo: OrderRepository }) {
  async function addOrderNote(cx: CallContext, input: AddOrderNoteInput): Promise<NoteResult> {
    const meta = changeMeta(cx);
    const guard = { etag: input.etag, alreadyApplied: (o: Order) => isRepeatedNote(o, input.requestId, input.text) };
    const { order } = await deps.repo.update(input.orderId, guard, (o) => decide(o, { kind: "ADD_NOTE", requestId: input.requestId, text: input.text }, meta), cx);
    const id = noteIdFor(order.id, input.requestId);
    const note = order.staffNotes.find((n) => n.id === id);
    if (!note) throw new Error(`order ${order.id} lacks note ${id} after its change`);
    return { order, note };
  }

  async function updateOrderTags(cx: CallContext, input: UpdateOrderTagsInput): Promise<Order> {
    const conflict = tagRequestConflict(input.add, input.remove);
    if (conflict) throw conflict;
    const meta = changeMeta(cx);
    const { order } = await deps.repo.update(
      input.orderId,
      { etag: input.etag },
      (o) => decide(o, { kind: "UPDATE_TAGS", add: input.add, remove: input.remove }, meta),
      cx,
    );
    return order;
  }

  async function updateOrderMetadata(cx: CallContext, input: UpdateOrderMetadataInput): Promise<Order> {
    const conflict = metadataRequestConflict(input.set, input.remove);
    if (conflict) throw conflict;
    const meta = changeMeta(cx);
    const { order } = await deps.repo.update(
      input.orderId,
      { etag: input.etag },
      (o) => decide(o, { kind: "UPDATE_METADATA", set: input.set, remove: input.remove }, meta),
      cx,
    );
    return order;
  }

  return { addOrderNote, updateOrderTags, updateOrderMetadata };
}
