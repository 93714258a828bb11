import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isLocalHostHeader } from '@p2pservice/cli';

/**
 * The header every request of the page's API carries, with the token. The token lives only in the page
 * (the printed address has it after `#`, which a browser never sends anywhere): no cookie, which a browser
 * would also send to every other port of 127.0.0.1, and nothing a form or another site could send.
 */
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
  path: string;
  host: string | undefined;
  origin: string | undefined;
  fetchSite: string | undefined;
  headerToken: string | undefined;
}

/**
 * The UI's door. The page's own files (its HTML, script and style) hold no secret and are served to
 * anyone who reaches the port; everything under /api/ needs the token in the header, which only the
 * page has. A change must also come from the page's own origin. On a loopback address, requests
 * addressed to a name other than an IP or localhost are refused: a site cannot reach the UI through a DNS
 * name rebound to 127.0.0.1.
 */
export function checkUiRequest(request: UiRequest, token: string, loopbackOnly: boolean): Refusal {
  if (loopbackOnly && !isLocalHostHeader(request.host)) return { status: 421, reason: 'this page answers only at 127.0.0.1, [::1] or localhost' };
  if (!request.path.startsWith('/api/')) return undefined;
  if (!sameToken(request.headerToken, token)) return { status: 401, reason: `open the address \`peer ui\` printed (it carries the access token); the API needs it in the ${UI_TOKEN_HEADER} header` };
  if (request.method === 'GET' || request.method === 'HEAD') return undefined;
  if (request.fetchSite !== undefined && request.fetchSite !== 'same-origin') return { status: 403, reason: 'cross-site requests are refused' };
  if (request.origin !== undefined && request.host !== undefined && !sameOriginHost(request.origin, request.host)) return { status: 403, reason: 'cross-site requests are refused' };
  return undefined;
}

function sameOriginHost(origin: string, host: string): boolean {
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
