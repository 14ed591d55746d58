// api.js - how pages talk to their daemon: JSON over fetch with the session
// cookie, the CSRF token on every state-changing request, 401 back to the
// login form, and errors as ApiError (the daemon's {"error":{code,message}}).
let csrf = '';
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

export function setCsrf(token) {
  csrf = token || '';
}

export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

async function errorOf(res) {
  let body = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says it
  }
  const e = body && body.error;
  return new ApiError(res.status, e && e.code, (e && e.message) || res.statusText);
}

// Send method path with body (an object becomes JSON; FormData, Blob and
// strings go as they are). Resolves to the parsed JSON (or text when the
// answer is not JSON); rejects with ApiError. opts.raw: resolve to the
// Response itself (downloads).
export async function api(method, path, body, opts = {}) {
  method = method.toUpperCase();
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  if (!SAFE.has(method) && csrf) headers['X-CSRF-Token'] = csrf;
  let payload = body;
  if (body !== undefined && body !== null && !(body instanceof FormData) &&
      !(body instanceof Blob) && typeof body !== 'string') {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  if (res.status === 401 && !opts.noRedirect) {
    onUnauthorized();
    throw await errorOf(res);
  }
  if (!res.ok) throw await errorOf(res);
  if (opts.raw) return res;
  const type = res.headers.get('Content-Type') || '';
  return type.includes('json') ? res.json() : res.text();
}

api.get = (path, opts) => api('GET', path, undefined, opts);
api.post = (path, body, opts) => api('POST', path, body ?? {}, opts);
api.put = (path, body, opts) => api('PUT', path, body ?? {}, opts);
api.patch = (path, body, opts) => api('PATCH', path, body ?? {}, opts);
api.del = (path, opts) => api('DELETE', path, undefined, opts);

// Add query parameters (skipping empty ones) to path.
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {}))
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}
