/** One file of the demo page, as built into the Worker by scripts/build-client.mjs. */
export interface DemoFile {
	readonly contentType: string;
	/** A strong validator: a hash of the body, so a rebuilt file is fetched again. */
	readonly etag: string;
	readonly body: string;
}
