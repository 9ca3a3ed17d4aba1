/**
 * Reading a request body with a hard byte cap (CONTRACT.md §13): a body larger than the cap is
 * refused after reading at most cap + 1 bytes of it, so a client cannot make the gateway buffer
 * a body of any size. A `Content-Length` over the cap is refused before anything is read.
 */

export type CappedBody = { ok: true; text: string } | { ok: false };

/** Reads `request`'s body as UTF-8 text, or reports it is over `maxBytes` (the stream is then cancelled). */
export async function readBodyCapped(request: Request, maxBytes: number): Promise<CappedBody> {
	const declared = Number(request.headers.get("Content-Length") ?? Number.NaN);
	if (Number.isFinite(declared) && declared > maxBytes) {
		await request.body?.cancel().catch(() => undefined);
		return { ok: false };
	}
	const body = request.body;
	if (body === null) return { ok: true, text: "" };
	const bytes = await readUpTo(body, maxBytes + 1);
	if (bytes === null || bytes.byteLength > maxBytes) {
		await body.cancel().catch(() => undefined);
		return { ok: false };
	}
	return { ok: true, text: new TextDecoder().decode(bytes) };
}

/**
 * Up to `limit` bytes of `stream`: all of it when shorter. A byte stream (every request body the
 * runtime receives) is read with a BYOB reader into one buffer of exactly `limit` bytes, so no
 * read pulls more than that; any other stream chunk by chunk, stopping at the first chunk that
 * crosses the limit (null: the caller only needs to know it is over).
 */
async function readUpTo(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> {
	let byob: ReadableStreamBYOBReader | null = null;
	try {
		byob = stream.getReader({ mode: "byob" });
	} catch {
		byob = null;
	}
	if (byob !== null) return readByob(byob, limit);
	const reader = stream.getReader();
	const chunks: Uint8Array[] = [];
	let total = 0;
	for (;;) {
		const { value, done } = await reader.read();
		if (done) break;
		total += value.byteLength;
		if (total >= limit) {
			reader.releaseLock();
			return null;
		}
		chunks.push(value);
	}
	const out = new Uint8Array(total);
	let at = 0;
	for (const chunk of chunks) {
		out.set(chunk, at);
		at += chunk.byteLength;
	}
	return out;
}

async function readByob(reader: ReadableStreamBYOBReader, limit: number): Promise<Uint8Array> {
	let buffer = new ArrayBuffer(limit);
	let filled = 0;
	while (filled < limit) {
		// Each read transfers the buffer: carry on with the one it hands back.
		const { value, done } = await reader.read(new Uint8Array(buffer, filled, limit - filled));
		if (value !== undefined) {
			buffer = value.buffer as ArrayBuffer;
			filled += value.byteLength;
		}
		if (done) break;
	}
	reader.releaseLock();
	return new Uint8Array(buffer, 0, filled);
}
