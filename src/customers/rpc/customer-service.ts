/**
 * CustomerService over the wire: decode → use case → encode. Requests arrive
 * validated (wrapService), so nothing here re-checks their shape.
 */
import { create } from "@bufbuild/protobuf";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  CreateCustomerResponseSchema,
  CustomerService,
  GetCustomerResponseSchema,
  ListCustomersResponseSchema,
  UpdateCustomerResponseSchema,
} from "../../../gen/customers/v1/customer_service_pb.js";
import { callContextOf } from "../../platform/call-context.js";
import type { CreateCustomer } from "../app/create-customer.js";
import type { GetCustomer } from "../app/get-customer.js";
import type { ListCustomers } from "../app/list-customers.js";
import type { UpdateCustomer } from "../app/update-customer.js";
import { customerToPb, statusFromPb, tierFromPb } from "./customer-mapping.js";

export interface CustomerUseCases {
  readonly createCustomer: CreateCustomer;
  readonly getCustomer: GetCustomer;
  readonly listCustomers: ListCustomers;
  readonly updateCustomer: UpdateCustomer;
}

export function createCustomerServiceImpl(
  useCases: CustomerUseCases,
  defaultDeadlineMs: number,
): ServiceImpl<typeof CustomerService> {
  return {
    async createCustomer(req, ctx) {
      const input = { email: req.email, displayName: req.displayName, tier: tierFromPb(req.tier) };
      const customer = await useCases.createCustomer(input, callContextOf(ctx, defaultDeadlineMs));
      return create(CreateCustomerResponseSchema, { customer: customerToPb(customer) });
    },

    async getCustomer(req, ctx) {
      const customer = await useCases.getCustomer(req.customerId, callContextOf(ctx, defaultDeadlineMs));
      return create(GetCustomerResponseSchema, { customer: customerToPb(customer) });
    },

    async listCustomers(req, ctx) {
      const input = {
        pageSize: req.pageSize,
        pageToken: req.pageToken,
        tier: tierFromPb(req.tier),
        status: statusFromPb(req.status),
      };
      const page = await useCases.listCustomers(input, callContextOf(ctx, defaultDeadlineMs));
      return create(ListCustomersResponseSchema, {
        customers: page.customers.map(customerToPb),
        nextPageToken: page.nextPageToken,
      });
    },

    async updateCustomer(req, ctx) {
      const patch = {
        email: req.email,
        displayName: req.displayName,
        tier: tierFromPb(req.tier),
        status: statusFromPb(req.status),
      };
      const cx = callContextOf(ctx, defaultDeadlineMs);
      const customer = await useCases.updateCustomer(req.customerId, { patch, etag: req.etag }, cx);
      return create(UpdateCustomerResponseSchema, { customer: customerToPb(customer) });
    },
  };
}
