/**
 * Who makes a call, decided once per call by wrapService, the same way for
 * every transport:
 *
 * 1. A co-hosted service calling in process asserts its principal through a
 *    context value (ASSERTED_PRINCIPAL) that only in-process callers can set:
 *    no network transport carries context values, and connect-node's come
 *    from the adapter, which sets none.
 * 2. Otherwise an `authorization: Bearer <jwt>` header or metadata entry is
 *    verified (jwt-verifier.ts; microseconds once a token is cached).
 * 3. No header: anonymous. A header that is not a bearer token, or a token
 *    that does not verify, is UNAUTHENTICATED, even on public methods.
 *
 * The `x-actor` header names whom a service acts for (on-behalf-of, kept in
 * history and logs); it is honoured from service principals only and
 * ignored from anyone else.
 */
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { actorOf } from "../../kernel/call-context.js";
import { DomainError, invalidArgument, unauthenticated } from "../../kernel/errors.js";
import type { Principal } from "../../kernel/principal.js";
import { ANONYMOUS } from "../../kernel/principal.js";
import { CallHandlerContext } from "../rpc/call-handler-context.js";
import type { TokenVerifier } from "./jwt-verifier.js";

/** Set by in-process callers only (the co-hosted order module calls as `service:orders`). */
export const ASSERTED_PRINCIPAL = createContextKey<Principal | undefined>(undefined, {
  description: "the principal an in-process caller asserts",
});

export const ACTOR_HEADER = "x-actor";
/** On-behalf-of values: 1 to 256 visible ASCII characters or spaces, not starting with a space. */
const ON_BEHALF_OF = /^[\x21-\x7e][\x20-\x7e]{0,255}$/;
const BEARER = /^bearer +([^ ]+) *$/i;

export interface Caller {
  readonly principal: Principal;
  readonly actor: string;
}

export interface Authenticator {
  /** The caller of this call, or a DomainError (UNAUTHENTICATED, or INVALID_ARGUMENT for a bad x-actor). */
  authenticate(ctx: HandlerContext): Caller | Promise<Caller>;
  /** The principal of an `authorization` header outside any RPC (the HTTP port's /metrics): anonymous without one, else as `authenticate`. */
  principalOf(authorization: string | null): Principal | Promise<Principal>;
}

function assertedPrincipal(ctx: HandlerContext): Principal | undefined {
  return ctx instanceof CallHandlerContext ? ctx.peekValue(ASSERTED_PRINCIPAL) : ctx.values.get(ASSERTED_PRINCIPAL);
}

/** Whether a co-hosted module makes this call in process, as itself (admission lets such nested work through). */
export function isAssertedCall(ctx: HandlerContext): boolean {
  return assertedPrincipal(ctx) !== undefined;
}

function callerOf(principal: Principal, ctx: HandlerContext): Caller {
  if (principal.role !== "service") return { principal, actor: actorOf(principal) };
  const onBehalfOf = ctx.requestHeader.get(ACTOR_HEADER) ?? undefined;
  if (onBehalfOf !== undefined && !ON_BEHALF_OF.test(onBehalfOf)) {
    throw invalidArgument("INVALID_ACTOR", "x-actor must be 1 to 256 visible ASCII characters", [
      { field: ACTOR_HEADER, description: "1 to 256 visible ASCII characters" },
    ]);
  }
  return { principal, actor: actorOf(principal, onBehalfOf) };
}

/** The token of `Bearer <token>` (any case, any spaces around); the common exact form without a regular expression. */
function bearerToken(header: string): string | undefined {
  if (header.startsWith("Bearer ") && header.indexOf(" ", 7) === -1 && header.length > 7) return header.slice(7);
  return BEARER.exec(header)?.[1];
}

/** Verifies bearer tokens with `verifier`. */
export function createAuthenticator(verifier: TokenVerifier): Authenticator {
  const principalOf = (header: string | null): Principal | Promise<Principal> => {
    if (header === null) return ANONYMOUS;
    const token = bearerToken(header);
    if (token === undefined) throw unauthenticated("TOKEN_INVALID", "the authorization header must be: Bearer <token>");
    const known = verifier.verifyCached(token);
    if (known instanceof DomainError) throw known;
    return known ?? verifier.verify(token);
  };
  return {
    principalOf,
    authenticate(ctx) {
      const asserted = assertedPrincipal(ctx);
      if (asserted) return callerOf(asserted, ctx);
      const header = ctx.requestHeader.get("authorization");
      if (header === null) return { principal: ANONYMOUS, actor: actorOf(ANONYMOUS) };
      const token = bearerToken(header);
      if (token === undefined) {
        throw unauthenticated("TOKEN_INVALID", "the authorization header must be: Bearer <token>");
      }
      // A cached token answers synchronously: no promise on the hot path.
      const known = verifier.verifyCached(token);
      if (known instanceof DomainError) throw known;
      if (known) return callerOf(known, ctx);
      return verifier.verify(token).then((principal) => callerOf(principal, ctx));
    },
  };
}

/**
 * AUTH_DISABLED: every call is made by an admin named "auth-disabled", with
 * no verification. For measuring what authentication costs, never for a
 * deployment; start-up says so loudly.
 */
export function createDisabledAuthenticator(): Authenticator {
  const admin: Caller = { principal: Object.freeze({ role: "admin", id: "auth-disabled" }), actor: "admin:auth-disabled" };
  return {
    authenticate(ctx) {
      const asserted = assertedPrincipal(ctx);
      return asserted ? callerOf(asserted, ctx) : admin;
    },
    principalOf: () => admin.principal,
  };
}
