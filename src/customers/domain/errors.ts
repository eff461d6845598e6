import { alreadyExists, notFound } from "../../kernel/errors.js";

export const customerNotFound = (id: string) =>
  notFound("CUSTOMER_NOT_FOUND", `customer ${id} not found`, { customerId: id });

export const emailTaken = () => alreadyExists("EMAIL_TAKEN", "the email is already used by another customer");

