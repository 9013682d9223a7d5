// The keymap: the one table of keys, what they do and how help describes them
// (k9s' KeyActions). The app's single input handler dispatches from it and
// the help overlay and footer hints are rendered from it, so help cannot
// drift from behaviour.
import type {Key} from 'ink';

export type Action = 'quit' | 'help' | 'pause' | 'close';

export type KeyBinding = {
	/** Key names as keyNames() gives them: a character, "ctrl-c", "esc". */
	readonly keys: readonly string[];
	readonly description: string;
	readonly action: Action;
	/** One word for the footer's hints; none keeps it out of the footer (help lists every binding). */
	readonly hint?: string;
};

export const keymap: readonly KeyBinding[] = [
	{keys: ['q', 'ctrl-c'], description: 'quit', action: 'quit', hint: 'quit'},
	{keys: ['?'], description: 'show or hide this help', action: 'help', hint: 'help'},
	{keys: ['p'], description: 'pause or resume the display', action: 'pause', hint: 'pause'},
	{keys: ['esc'], description: 'close help', action: 'close'},
];

/**
 * Names the keys in one input event. Several characters can arrive in one
 * chunk (a paste, or tmux send-keys "pq"): each is a key of its own.
 */
export function keyNames(input: string, key: Pick<Key, 'ctrl' | 'escape'>): string[] {
	if (key.escape) return ['esc'];
	if (key.ctrl) return [`ctrl-${input.toLowerCase()}`];
	return [...input];
}

/** The action bound to a key name, if any. */
export function actionFor(name: string, map: readonly KeyBinding[] = keymap): Action | undefined {
	return map.find(b => b.keys.includes(name))?.action;
}
