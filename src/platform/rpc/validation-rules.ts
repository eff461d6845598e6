/**
 * Whether a message type carries any protovalidate rule, on itself or on any
 * message reachable through its fields. A request type without one is valid
 * by construction, so wrapService skips the validator for it (protovalidate
 * would walk the message and find nothing to check). Rules live only in the
 * buf.validate.message / .oneof / .field options (predefined rules are
 * extensions inside .field), so looking for those options is exhaustive.
 */
import { hasOption, type DescMessage } from "@bufbuild/protobuf";
import { field as fieldRules, message as messageRules, oneof as oneofRules } from "../../../gen/buf/validate/validate_pb.js";

const cache = new WeakMap<DescMessage, boolean>();

export function hasValidationRules(schema: DescMessage): boolean {
  return check(schema, new Set());
}

function check(schema: DescMessage, visiting: Set<DescMessage>): boolean {
  const known = cache.get(schema);
  if (known !== undefined) return known;
  // A recursive type: its rules, if any, are found on the first visit.
  if (visiting.has(schema)) return false;
  visiting.add(schema);
  const found =
    hasOption(schema, messageRules) ||
    schema.oneofs.some((o) => hasOption(o, oneofRules)) ||
    schema.fields.some(
      (f) => hasOption(f, fieldRules) || (f.message !== undefined && check(f.message, visiting)),
    );
  visiting.delete(schema);
  // Only a complete answer is cached: inside a cycle a "false" may be partial.
  if (found || visiting.size === 0) cache.set(schema, found);
  return found;
}
