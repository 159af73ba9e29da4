// The one way the dashboard talks to the server: JSON in and out, API.md error bodies turned
// into ApiError (with per-field messages for forms), and a 401 sending the user to log in.
// Requests are same-origin with the session cookie; the server's CSRF check relies on the
// browser's Origin / Sec-Fetch-Site headers, which fetch sends by itself.

import { readSse } from "./sse.js";

const BASE = "/api/v1";
let unauthorizedHandler = () => {};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || "Request failed");
    this.status = status;
    this.code = code;
    this.details = details;
  }

  // {field: message} from the API's details list, for inline form errors. The server words each
  // message as a sentence and reports every bad field at once; two problems of one field are joined.
  fieldErrors() {
    const out = {};
    if (Array.isArray(this.details)) {
      for (const item of this.details) {
        if (!item || !item.field) continue;
        const message = item.message || "This value is not valid.";
        out[item.field] = out[item.field] ? `${out[item.field]} ${message}` : message;
      }
    }
    return out;
  }
}

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

export function apiUrl(path, query) {
  const url = path.startsWith("/api/") || path.startsWith("http") ? path : BASE + path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const qs = params.toString();
  return qs ? `${url}${url.includes("?") ? "&" : "?"}${qs}` : url;
}

async function errorFrom(response) {
  let body = null;
  try { body = await response.json(); } catch { body = null; }
  const err = (body && body.error) || {};
  return new ApiError(response.status, err.code || "http_" + response.status,
    err.message || response.statusText || "Request failed", err.details);
}

// Returns the raw Response for streams; throws ApiError on any non-2xx status.
export async function request(method, path, { body, query, form, signal, headers } = {}) {
  const init = { method, credentials: "same-origin", signal, headers: { Accept: "application/json", ...(headers || {}) } };
  if (form) init.body = form;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(apiUrl(path, query), init);
  } catch (cause) {
    if (cause && cause.name === "AbortError") throw cause;
    throw new ApiError(0, "network_error", "Cannot reach the server. Check your connection and try again.");
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (response.status === 401 && !path.startsWith("/auth/") && !path.startsWith("/invitations/")) unauthorizedHandler(error);
    throw error;
  }
  return response;
}

export async function api(method, path, options = {}) {
  const response = await request(method, path, options);
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, body) => api("POST", path, { body });
export const put = (path, body) => api("PUT", path, { body });
export const patch = (path, body) => api("PATCH", path, { body });
export const del = (path) => api("DELETE", path);

// Multipart upload with progress events (fetch cannot report upload progress).
export function upload(path, formData, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", apiUrl(path));
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener("load", () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { body = null; }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body);
      const err = (body && body.error) || {};
      const error = new ApiError(xhr.status, err.code || "http_" + xhr.status, err.message || "Upload failed", err.details);
      if (xhr.status === 401) unauthorizedHandler(error);
      reject(error);
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network_error", "Upload failed: cannot reach the server.")));
    xhr.send(formData);
  });
}

// POSTs and reads a server-sent event stream, calling onEvent with each parsed `data:` JSON.
// The parser is the widget's own (served as /js/sse.js), so both read every stream alike.
export async function streamEvents(path, body, onEvent, signal) {
  const response = await request("POST", path, { body, signal, headers: { Accept: "text/event-stream" } });
  await readSse(response, onEvent);
}
