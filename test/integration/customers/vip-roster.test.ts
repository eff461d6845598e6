/**
 * The app built as main.ts builds it loads admission's VIP roster when it
 * starts: a VIP customer nobody has read yet (the demo data is inserted
 * straight into the table) is known as VIP at once, and any other customer as
 * STANDARD, both without a GetCustomer lookup (a lookup would make tierOf
 * answer with a promise). The test waits for the roster itself, never for a
 * tier: asking before the roster is in would start a lookup, and the lookup's
 * answer would then pass for the roster's.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startTestStack, type TestStack } from "../../support/servers.js";

const GRACE_VIP = "22222222-2222-4222-8222-222222222222";
const ADA_STANDARD = "11111111-1111-4111-8111-111111111111";
const NOBODY = "99999999-9999-4999-8999-999999999999";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ config: { seedDemoData: true } });
});
afterAll(() => stack?.close());

describe("the VIP roster", () => {
  it("is loaded at start: tiers of customers never read are known without a lookup", async () => {
    await vi.waitFor(() => expect(stack.app.tiers.hasRoster).toBe(true), { timeout: 10_000, interval: 20 });
    expect(stack.app.tiers.tierOf(GRACE_VIP)).toBe("VIP");
    expect(stack.app.tiers.tierOf(ADA_STANDARD)).toBe("STANDARD");
    expect(stack.app.tiers.tierOf(NOBODY)).toBe("STANDARD");
  });
});
