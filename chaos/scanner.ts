/**
 * Scans every line every server process prints (rooms and gateways, all of it, not the trimmed
 * copy the harness keeps) for secrets: each access token and resume token the run saw, the
 * admin token, the JWT secret, and any `eyJ` — the base64url of `{"`, with which every JWT
 * and every baton resume token begins. Logs must never hold a token (CONTRACT.md §4).
 */

/** The prefix of every JWT (and of baton's resume tokens, whose payload is base64url JSON). */
const JWT_PREFIX = "eyJ";
const TOKEN_RUN = /eyJ[A-Za-z0-9_\-.]*/g;
const EXCERPT_CHARS = 200;
const MAX_LEAKS_KEPT = 50;

export interface Leak {
	process: string;
	/** What matched: a known token (whose), the bare prefix, or a named secret. */
	what: string;
	/** The line, with every token-looking run redacted. */
	excerpt: string;
}

export class SecretScanner {
	private readonly tokens = new Map<string, string>();
	private readonly named: Array<{ name: string; value: string }>;
	private readonly partial = new Map<string, string>();
	readonly leaks: Leak[] = [];
	leakCount = 0;
	lines = 0;
	bytes = 0;

	constructor(named: Record<string, string>) {
		this.named = Object.entries(named).map(([name, value]) => ({ name, value }));
	}

	/** A token the run minted or received, and whose it is (for the report). */
	addToken(token: string, owner: string): void {
		if (!token.startsWith(JWT_PREFIX)) {
			// Not caught by the prefix scan: look for it by name (rare; none so far).
			if (!this.named.some((n) => n.value === token)) this.named.push({ name: `token of ${owner}`, value: token });
			return;
		}
		if (!this.tokens.has(token)) this.tokens.set(token, owner);
	}

	get tokenCount(): number {
		return this.tokens.size + this.named.length;
	}

	/** A chunk of a process's output (lines may be split across chunks). */
	feed(process: string, text: string): void {
		this.bytes += text.length;
		const lines = ((this.partial.get(process) ?? "") + text).split("\n");
		this.partial.set(process, lines.pop() ?? "");
		for (const line of lines) this.scan(process, line);
	}

	/** Scans what is left of every process's last line. */
	flush(): void {
		for (const [process, rest] of this.partial) if (rest !== "") this.scan(process, rest);
		this.partial.clear();
	}

	private scan(process: string, line: string): void {
		this.lines += 1;
		if (line.includes(JWT_PREFIX)) {
			const runs = line.match(TOKEN_RUN) ?? [];
			const owners = runs.map((r) => this.tokens.get(r)).filter((o) => o !== undefined);
			this.record(process, owners.length > 0 ? `token of ${owners.join(", ")}` : `"${JWT_PREFIX}" prefix`, line);
		}
		for (const n of this.named) if (line.includes(n.value)) this.record(process, n.name, line);
	}

	private record(process: string, what: string, line: string): void {
		this.leakCount += 1;
		if (this.leaks.length >= MAX_LEAKS_KEPT) return;
		let excerpt = line.replace(TOKEN_RUN, (m) => `eyJ…(${m.length} chars)`);
		for (const n of this.named) excerpt = excerpt.split(n.value).join(`<${n.name}>`);
		this.leaks.push({ process, what, excerpt: excerpt.slice(0, EXCERPT_CHARS) });
	}
}
