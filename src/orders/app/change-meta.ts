import type { CallContext } from "../../kernel/call-context.js";
import type { ChangeMeta } from "../domain/transition.js";

/** When and by whom a change is made: now, by the call's `x-actor`. */
export function changeMeta(cx: CallContext, now: () => Date = () => new Date()): ChangeMeta {
  return { at: now(), actor: cx.actor ?? "" };
}
