import { create, fromBinary, fromJsonString } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { GetCustomerResponseSchema } from "../../../gen/customers/v1/customer_service_pb.js";
import { createBinaryEncoder, createJsonEncoder, freezeMessage } from "../../../src/platform/rpc/message-encoding.js";

describe("response encoders", () => {
  const binary = createBinaryEncoder(GetCustomerResponseSchema);
  const json = createJsonEncoder(GetCustomerResponseSchema);

  it("encode a frozen message once and hand out the same bytes", () => {
    const msg = freezeMessage(create(GetCustomerResponseSchema, { customer: { displayName: "Ada" } }));
    const a = binary(msg);
    expect(binary(msg)).toBe(a);
    expect(fromBinary(GetCustomerResponseSchema, a).customer?.displayName).toBe("Ada");
    expect(json(msg)).toBe(json(msg));
    expect(fromJsonString(GetCustomerResponseSchema, json(msg).toString()).customer?.displayName).toBe("Ada");
  });

  it("freeze deeply, so a frozen message cannot go stale", () => {
    const msg = freezeMessage(create(GetCustomerResponseSchema, { customer: { displayName: "Ada" } }));
    expect(() => {
      (msg.customer as { displayName: string }).displayName = "Bob";
    }).toThrow(TypeError);
  });

  it("encode a message that is not frozen every time, with its current content", () => {
    const msg = create(GetCustomerResponseSchema, { customer: { displayName: "Ada" } });
    const a = binary(msg);
    msg.customer!.displayName = "Bob";
    const b = binary(msg);
    expect(b).not.toBe(a);
    expect(fromBinary(GetCustomerResponseSchema, b).customer?.displayName).toBe("Bob");
  });

  it("accept a plain init object as connect does", () => {
    expect(fromBinary(GetCustomerResponseSchema, binary({ customer: { displayName: "Ada" } })).customer?.displayName).toBe("Ada");
  });
});
