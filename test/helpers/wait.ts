// Waiting for a condition with a deadline, never a fixed sleep.

/** Polls `probe` every `intervalMs` until it gives a value other than undefined/false; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(
	what: string,
	probe: () => T | undefined | false | Promise<T | undefined | false>,
	{timeoutMs = 15_000, intervalMs = 50} = {},
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined && value !== false) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await new Promise(resolve => setTimeout(resolve, intervalMs));
	}
}
