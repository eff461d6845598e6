import type { CustomerRepository } from "../domain/ports.js";

/** What the customer use cases need from the outside world. */
export interface CustomerAppPorts {
  readonly repo: CustomerRepository;
  readonly now: () => Date;
  readonly newId: () => string;
}
