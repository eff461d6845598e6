/** Timeline entries, domain → proto (ListOrderTimeline). Proto types stop here. */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { TimelineEntrySchema } from "../../../gen/orders/v1/order_service_pb.js";
import type { TimelineEntry } from "../domain/timeline.js";

/** An entry copied from the history before the timeline existed has no version: 0 on the wire. */
export function toProtoTimelineEntry(t: TimelineEntry): MessageInitShape<typeof TimelineEntrySchema> {
  return {
    version: t.version ?? 0,
    type: t.type,
    summary: t.summary,
    reason: t.reason,
    actor: t.actor,
    changeTime: timestampFromDate(t.at),
    subjectId: t.subjectId ?? "",
    amount: t.amount ? { currencyCode: t.amount.currency, amountMinor: t.amount.amountMinor } : undefined,
    staffOnly: t.staffOnly,
  };
}
