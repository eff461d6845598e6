/**
 * CustomerService over the wire: decode → use case → encode. Requests arrive
 * validated (wrapService), so nothing here re-checks their shape.
 */
import { create } from "@bufbuild/protobuf";
import {
  CreateCustomerResponseSchema,
  CustomerService,
  GetCustomerResponseSchema,
  ListCustomersResponseSchema,
  UpdateCustomerResponseSchema,
} from "../../../gen/customers/v1/customer_service_pb.js";
import type { RpcImpl } from "../../platform/rpc/handlers.js";
import type { CustomerUseCases } from "../app/use-cases.js";
import { customerToPb, statusFromPb, tierFromPb } from "./customer-mapping.js";

export function createCustomerServiceImpl(useCases: CustomerUseCases): RpcImpl<typeof CustomerService> {
  return {
    async createCustomer(req, cx) {
      const input = { email: req.email, displayName: req.displayName, tier: tierFromPb(req.tier) };
      const customer = await useCases.createCustomer(cx, input);
      return create(CreateCustomerResponseSchema, { customer: customerToPb(customer) });
    },

    async getCustomer(req, cx) {
      const customer = await useCases.getCustomer(cx, req.customerId);
      return create(GetCustomerResponseSchema, { customer: customerToPb(customer) });
    },

    async listCustomers(req, cx) {
      const input = {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        tier: tierFromPb(req.tier),
        status: statusFromPb(req.status),
        email: req.email || undefined,
      };
      const page = await useCases.listCustomers(cx, input);
      return create(ListCustomersResponseSchema, {
        customers: page.customers.map(customerToPb),
        nextPageToken: page.nextPageToken,
      });
    },

    async updateCustomer(req, cx) {
      const patch = {
        email: req.email,
        displayName: req.displayName,
        tier: tierFromPb(req.tier),
        status: statusFromPb(req.status),
      };
      const customer = await useCases.updateCustomer(cx, { customerId: req.customerId, patch, etag: req.etag });
      return create(UpdateCustomerResponseSchema, { customer: customerToPb(customer) });
    },
  };
}
