/** A request body exactly as a client may send it. */
export interface RawRequest {
  /** Exactly these headers; default `content-type: application/json`. */
  headers?: Record<string, string>;
  body: string | Uint8Array;
  /** Streamed, without a content-length. */
  chunked?: boolean;
}

export interface RawAnswer {
  status: number;
  contentType: string | null;
  /** The body parsed as JSON, or its text when it is not JSON. */
  body: any;
}

/** An answer with its every header and its body's text, to look for what must not be there. */
export interface FullAnswer extends RawAnswer {
  headers: Record<string, string>;
  text: string;
}

/** Sends `method` to `url` (with `body` verbatim, if given) over real HTTP. */
export async function sendRaw(method: string, url: string, { headers = { 'content-type': 'application/json' }, body }: Partial<RawRequest> = {}): Promise<FullAnswer> {
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: the text */
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body: parsed, headers: Object.fromEntries(res.headers), text };
}

/** POSTs `body` verbatim over real HTTP and reads the answer. */
export async function postRaw(url: string, { headers = { 'content-type': 'application/json' }, body, chunked }: RawRequest): Promise<RawAnswer> {
  // Bytes, not a string: fetch would add a text/plain content type of its own.
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body: chunked
      ? new ReadableStream({
          start(controller) {
            controller.enqueue(bytes);
            controller.close();
          },
        })
      : bytes,
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: the text */
  }
  return { status: res.status, contentType: res.headers.get('content-type'), body: parsed };
}
