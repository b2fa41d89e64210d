// The public GraphQL API: POST /graphql with a bearer key, and a minimal
// graphql-transport-ws client for subscriptions. Nothing else is called.

import { sentence } from "./dom.js";

export class ApiError extends Error {
  /** kind: "auth" (key refused), "network", "typed" (a mutation's Error member), "graphql". */
  constructor(message, { kind = "graphql", type = null, field = null } = {}) {
    super(sentence(message));
    this.kind = kind;
    this.type = type;
    this.field = field;
  }
}

const KEY_STORAGE = "entrasync.apiKey";

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  },
};

/** Called when the server refuses the key (set by the app: it signs out). */
export const hooks = { onAuthLost: () => {} };

export async function gql(query, variables = {}, key = session.key) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${key}` },
      body: JSON.stringify({ query, variables }),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new ApiError("The server cannot be reached. Check that entrasync is running, then try again", {
      kind: "network",
    });
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  const firstMessage = body && Array.isArray(body.errors) && body.errors[0] ? body.errors[0].message : "";
  if (response.status === 401) {
    const err = new ApiError("The API key was not accepted. Check it, or ask for a new one", { kind: "auth" });
    hooks.onAuthLost(err);
    throw err;
  }
  if (response.status === 429) {
    const wait = response.headers.get("Retry-After");
    throw new ApiError(`Too many requests for now. Try again in ${wait || "a few"} seconds`, { kind: "network" });
  }
  if (!body) throw new ApiError(`The server answered with an error (HTTP ${response.status})`, { kind: "network" });
  if (body.errors && body.errors.length) {
    throw new ApiError(body.errors.map((e) => sentence(e.message)).join(" "));
  }
  return body.data;
}

/** A mutation or look-up result union: the payload when its __typename is `ok`, else throw its message. */
export function expect(result, ok) {
  if (result && result.__typename === ok) return result;
  const message = (result && result.message) || "The server did not do this, and gave no reason";
  throw new ApiError(message, { kind: "typed", type: result && result.__typename, field: result && result.field });
}

/** The fields every union query asks for when it fails. */
export const ERROR_FIELDS = "__typename ... on Error { message }";

// --- graphql-transport-ws ---------------------------------------------------------------

class Subscriptions {
  constructor() {
    this.socket = null;
    this.ready = null;
    this.sinks = new Map();
    this.nextId = 0;
  }

  connect() {
    if (this.ready) return this.ready;
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
    this.ready = new Promise((resolve, reject) => {
      let acked = false;
      let socket;
      try {
        socket = new WebSocket(url, "graphql-transport-ws");
      } catch (err) {
        this.ready = null;
        reject(new ApiError("Live updates are not available", { kind: "network" }));
        return;
      }
      this.socket = socket;
      socket.addEventListener("open", () => {
        socket.send(
          JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${session.key}` } }),
        );
      });
      socket.addEventListener("message", (event) => {
        let msg;
        try {
          msg = JSON.parse(event.data);
        } catch {
          return;
        }
        if (msg.type === "connection_ack") {
          acked = true;
          resolve(this);
        } else if (msg.type === "ping") {
          socket.send(JSON.stringify({ type: "pong" }));
        } else if (msg.id && this.sinks.has(msg.id)) {
          const sink = this.sinks.get(msg.id);
          if (msg.type === "next") {
            const errors = msg.payload && msg.payload.errors;
            if (errors && errors.length) {
              this.sinks.delete(msg.id);
              sink.error(new ApiError(errors.map((e) => sentence(e.message)).join(" ")));
            } else sink.next(msg.payload.data);
          } else if (msg.type === "error") {
            this.sinks.delete(msg.id);
            const list = Array.isArray(msg.payload) ? msg.payload : [];
            sink.error(new ApiError(list.map((e) => e.message).join(" ") || "The subscription failed"));
          } else if (msg.type === "complete") {
            this.sinks.delete(msg.id);
            sink.complete();
          }
        }
      });
      socket.addEventListener("close", (event) => {
        const err =
          event.code === 4403
            ? new ApiError("The API key was not accepted for live updates", { kind: "auth" })
            : new ApiError("The live connection to the server closed", { kind: "network" });
        if (!acked) reject(err);
        this.socket = null;
        this.ready = null;
        const sinks = [...this.sinks.values()];
        this.sinks.clear();
        for (const sink of sinks) sink.error(err);
      });
    });
    return this.ready;
  }

  /** Subscribe; returns a function that stops the subscription. */
  subscribe(query, variables, sink) {
    const id = String(++this.nextId);
    let stopped = false;
    this.connect().then(
      () => {
        if (stopped || !this.socket) return;
        this.sinks.set(id, sink);
        this.socket.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
      },
      (err) => {
        if (!stopped) sink.error(err);
      },
    );
    return () => {
      stopped = true;
      if (this.sinks.delete(id) && this.socket && this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify({ id, type: "complete" }));
      }
    };
  }

  close() {
    this.sinks.clear();
    if (this.socket) this.socket.close(1000, "signed out");
    this.socket = null;
    this.ready = null;
  }
}

export const subscriptions = new Subscriptions();

const PROGRESS_FIELDS = `runId status phase dryRun fetched created updated unchanged
  skippedByFilter skippedUnmapped errors total percent errorMessage`;

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);
/** The mass-change guard stopped the run before it wrote anything: an admin applies or discards it. */
const PAUSED = "AWAITING_APPROVAL";

/** True once a run needs nothing more from a follower: it ended, or it waits for an admin. */
function settled(status) {
  return TERMINAL.has(status) || status === PAUSED;
}

/**
 * Follow one run until it ends or the mass-change guard pauses it: `onUpdate(progress)` for every
 * snapshot (syncProgress), resolves with the last one. If the websocket cannot be used, falls
 * back to polling the run. Returns {done: Promise, stop()}.
 */
export function followRun(runId, onUpdate) {
  let stop = () => {};
  let stopped = false;
  const done = new Promise((resolve, reject) => {
    let last = null;
    const poll = async () => {
      while (!stopped) {
        const data = await gql(`query($id: ID!) { node(id: $id) { ... on SyncRun { runId: id ${PROGRESS_FIELDS.replace("runId", "")} } } }`, { id: runId });
        last = data.node;
        if (last) onUpdate(last);
        if (!last || settled(last.status)) return resolve(last);
        await new Promise((r) => setTimeout(r, 1000));
      }
      resolve(last);
    };
    stop = subscriptions.subscribe(
      `subscription($id: ID!) { syncProgress(runId: $id) { ${PROGRESS_FIELDS} } }`,
      { id: runId },
      {
        next(data) {
          last = data.syncProgress;
          onUpdate(last);
          // The subscription stays open while a run is paused (it may be approved): stop here.
          if (last.status === PAUSED) {
            stop();
            resolve(last);
          }
        },
        error(err) {
          if (err.kind === "auth") return reject(err);
          poll().catch(reject);
        },
        complete() {
          if (last && settled(last.status)) resolve(last);
          else poll().catch(reject);
        },
      },
    );
  });
  return {
    done,
    stop() {
      stopped = true;
      stop();
    },
  };
}

export { PAUSED, TERMINAL };
