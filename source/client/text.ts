// Text from outside — the command line, files, the agent — on its way to the
// terminal: takes any string and gives one that can neither break the line
// it is printed in nor drive the terminal (a carriage return, BEL, an escape
// or CSI sequence), and that stays short enough to read. Every message that
// quotes outside text, and every string the agent sends, goes through here.

/** C0 and C1 control characters, DEL, and the Unicode line separators. */
const controlClass = '[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]';
const control = new RegExp(controlClass, 'g');
const hasControl = new RegExp(controlClass);

/** How much of an outside value a message quotes. */
const maxShown = 60;

/** `text` with every control character replaced by U+FFFD, for display as data. */
export function printable(text: string): string {
	return text.replace(control, '\uFFFD');
}

/** JSON's escapes, and the same for the characters JSON leaves raw (C1, DEL, U+2028/9). */
function escaped(json: string): string {
	return json.replace(control, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `text` as a message quotes it: as is when it is plain (printable, no
 * leading or trailing space, at most `max` characters), else as a JSON
 * string, escaped and cut to `max` characters with an ellipsis. Paths pass
 * a larger `max`: a path is not worth much cut.
 */
export function shown(text: string, max = maxShown): string {
	if (text !== '' && text.length <= max && !hasControl.test(text) && text.trim() === text) return text;
	return escaped(JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text));
}

/** A path as a message quotes it: whole unless absurd, control characters escaped. */
export function shownPath(path: string): string {
	return shown(path, 4096);
}

/** A value read from a JSON file, as a message quotes it: its JSON, escaped and cut. */
export function shownValue(value: unknown): string {
	const json = JSON.stringify(value) ?? 'nothing';
	return escaped(json.length > maxShown ? `${json.slice(0, maxShown)}…` : json);
}
