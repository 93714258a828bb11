import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isLocalHostHeader } from '@p2pservice/protocol/cli';

/** The cookie the page's token is kept in once the printed URL was opened. */
export const UI_COOKIE = 'p2p_ui';
/** The header every state-changing request must carry, with the token: a cross-site form cannot set it. */
export const UI_TOKEN_HEADER = 'x-p2p-token';

/** A fresh access token: 256 random bits, URL-safe. */
export function newUiToken(): string {
  return randomBytes(32).toString('base64url');
}

export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Why a request is refused, or undefined when it may go on. */
export type Refusal = { status: 401 | 403 | 421; reason: string } | undefined;

export interface UiRequest {
  method: string;
  host: string | undefined;
  origin: string | undefined;
  fetchSite: string | undefined;
  cookieToken: string | undefined;
  headerToken: string | undefined;
}

/**
 * The UI's door. Every request needs the token's cookie; a request that changes something also needs
 * the token in a header and must come from the page's own origin (a cross-site form or fetch has
 * neither). On a loopback address, requests addressed to a name other than an IP or localhost are
 * refused: a site cannot reach the UI through a DNS name rebound to 127.0.0.1.
 */
export function checkUiRequest(request: UiRequest, token: string, loopbackOnly: boolean): Refusal {
  if (loopbackOnly && !isLocalHostHeader(request.host)) return { status: 421, reason: 'this page answers only at 127.0.0.1, [::1] or localhost' };
  if (!sameToken(request.cookieToken, token)) return { status: 401, reason: 'open the URL that `peer ui` printed (it carries the access token)' };
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  if (request.fetchSite !== undefined && request.fetchSite !== 'same-origin') return { status: 403, reason: 'cross-site requests are refused' };
  if (request.origin !== undefined && request.host !== undefined && !sameOriginHost(request.origin, request.host)) return { status: 403, reason: 'cross-site requests are refused' };
  if (!sameToken(request.headerToken, token)) return { status: 403, reason: `a change needs the ${UI_TOKEN_HEADER} header` };
  return undefined;
}

function sameOriginHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
