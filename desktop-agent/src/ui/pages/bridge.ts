import { IPC_HTTP_PREFIX } from '@icarus/shared';
import { buildApi } from '../../preload/api';

/**
 * In a browser (the headless agent's loopback server) this plays the preload's part: the same
 * named API, carried over HTTP. The per-session token arrives in the URL fragment (never sent to
 * the server in a request line or logged) and is kept for this tab only.
 */
const fragment = new URLSearchParams(location.hash.slice(1)).get('token');
if (fragment) {
  sessionStorage.setItem('icarus-token', fragment);
  history.replaceState(null, '', location.pathname);
}
const token = sessionStorage.getItem('icarus-token') ?? '';

// In Electron the preload has already exposed the API (read-only): leave it alone.
if (!Reflect.has(window, 'icarus'))
  window.icarus = buildApi(async (channel, request) => {
    const response = await fetch(`${IPC_HTTP_PREFIX}${channel}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(request),
    });
    // The envelope is checked by buildApi; a non-JSON answer (e.g. a 401 page) becomes an error there.
    const body: unknown = await response.json().catch(() => ({ ok: false, error: { code: 'failed', message: `the agent answered ${response.status}` } }));
    return body;
  });
