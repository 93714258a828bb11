import { describe, expect, it } from 'vitest';
import { checkUiRequest, newUiToken, UI_TOKEN_HEADER, type UiRequest } from '../src/face/web/ui-auth.js';

const token = newUiToken();
const page: UiRequest = { method: 'GET', path: '/api/files', host: '127.0.0.1:7080', origin: undefined, fetchSite: 'same-origin', headerToken: token };
const change: UiRequest = { ...page, method: 'POST', path: '/api/shares', origin: 'http://127.0.0.1:7080' };

describe("peer ui's door", () => {
  it('makes tokens of 256 random bits, URL-safe', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newUiToken()).not.toBe(token);
  });

  it("serves the page's own files to anyone, the API with the token's header, and a change also from its own origin", () => {
    for (const path of ['/', '/app.js', '/app.css']) expect(checkUiRequest({ ...page, path, headerToken: undefined }, token, true)).toBeUndefined();
    expect(checkUiRequest(page, token, true)).toBeUndefined();
    expect(checkUiRequest(change, token, true)).toBeUndefined();
    expect(checkUiRequest({ ...change, host: 'localhost:7080', origin: 'http://localhost:7080' }, token, true)).toBeUndefined();
  });

  it('refuses the API without the token, or with another one', () => {
    expect(checkUiRequest({ ...page, headerToken: undefined }, token, true)?.status).toBe(401);
    expect(checkUiRequest({ ...page, headerToken: newUiToken() }, token, true)?.status).toBe(401);
    expect(checkUiRequest({ ...page, headerToken: token.slice(1) }, token, true)?.status).toBe(401);
    expect(checkUiRequest({ ...page, path: '/api/events', headerToken: undefined }, token, true)?.status).toBe(401);
  });

  it('refuses a change from another site, or without the header', () => {
    expect(checkUiRequest({ ...change, origin: 'http://evil.example' }, token, true)?.status).toBe(403);
    expect(checkUiRequest({ ...change, fetchSite: 'cross-site' }, token, true)?.status).toBe(403);
    expect(checkUiRequest({ ...change, fetchSite: 'same-site' }, token, true)?.status).toBe(403);
    expect(checkUiRequest({ ...change, origin: 'null' }, token, true)?.status).toBe(403);
    const noHeader = checkUiRequest({ ...change, headerToken: undefined }, token, true);
    expect(noHeader).toMatchObject({ status: 401, reason: expect.stringContaining(`the ${UI_TOKEN_HEADER} header`) });
  });

  it('refuses requests addressed to another name on loopback (DNS rebinding), not when bound elsewhere on purpose', () => {
    expect(checkUiRequest({ ...page, host: 'evil.example:7080' }, token, true)?.status).toBe(421);
    expect(checkUiRequest({ ...page, host: undefined }, token, true)?.status).toBe(421);
    expect(checkUiRequest({ ...page, host: 'nas.lan:7080' }, token, false)).toBeUndefined();
  });
});
